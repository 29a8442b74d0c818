package main

import (
	"context"
	"errors"

	"github.com/deis/deis/store"
)

// gitUsers answers the git endpoint's questions from the store.
type gitUsers struct{ st *store.Store }

func (u gitUsers) UserForFingerprint(ctx context.Context, fp string) (string, error) {
	return u.st.UserForFingerprint(ctx, fp)
}

func (u gitUsers) viewer(ctx context.Context, user string) (store.Viewer, error) {
	usr, _, err := u.st.GetUser(ctx, user)
	return store.Viewer{Username: usr.Username, Admin: usr.Admin}, err
}

// CanPush: the owner, collaborators and admins.
func (u gitUsers) CanPush(ctx context.Context, user, app string) (bool, error) {
	v, err := u.viewer(ctx, user)
	if err != nil {
		return false, err
	}
	_, err = u.st.GetApp(ctx, v, app)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CanFetch: the owner and admins.
func (u gitUsers) CanFetch(ctx context.Context, user, app string) (bool, error) {
	v, err := u.viewer(ctx, user)
	if err != nil {
		return false, err
	}
	a, err := u.st.GetApp(ctx, v, app)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && (a.Owner == user || v.Admin), err
}
