package deis

import (
	"time"
)

// User is an account on the controller. The first user registered is an admin.
type User struct {
	Username string    `json:"username"`
	Email    string    `json:"email"`
	Admin    bool      `json:"admin"`
	Created  time.Time `json:"created"`
}

// RegisterRequest creates an account.
type RegisterRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

// LoginRequest trades a username and password for a bearer token.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Token is a bearer token for the API, shown once at login.
type Token struct {
	Token    string    `json:"token"`
	Username string    `json:"username"`
	Expires  time.Time `json:"expires"`
}

// Key is an SSH public key that lets its owner git push.
type Key struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"`
	Public      string    `json:"public"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

// KeyCreateRequest adds a key. ID defaults to the key's comment.
type KeyCreateRequest struct {
	ID     string `json:"id,omitempty"`
	Public string `json:"public"`
}

// Perms lists the collaborators of an app.
type Perms struct {
	Users []string `json:"users"`
}

// PermCreateRequest adds a collaborator.
type PermCreateRequest struct {
	Username string `json:"username"`
}
