package api

import (
	"bytes"
	"errors"
	"testing"

	"github.com/deis/deis"
)

// FuzzDecode feeds arbitrary bodies to the strict decoder of every request
// type: it must never panic, and must answer either success or an *Error
// with a 400 and a one-line message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"id":"dev","domain":"x.com"}`, `{"values":{"A":"1","B":null}}`, `{"web":2}`,
		`{"id":"x","unknown":1}`, `{"id":1}`, `[]`, `null`, ``, `{"values":{"A":"\u0000"}}`, `{}{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{
			&deis.FormationCreateRequest{}, &deis.ConfigUpdateRequest{}, &deis.ScaleRequest{},
			&deis.LayerCreateRequest{}, &deis.BuildCreateRequest{}, &deis.RegisterRequest{},
			&deis.ProviderCreateRequest{}, &deis.FlavorUpdateRequest{}, &deis.RollbackRequest{},
		}
		for _, v := range targets {
			err := decodeJSON(bytes.NewReader(body), v)
			if err == nil {
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Message == "" || bytes.ContainsRune([]byte(e.Message), '\n') {
				t.Fatalf("decodeJSON(%q) into %T = %#v", body, v, err)
			}
		}
	})
}
