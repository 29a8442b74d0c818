package api

import (
	"sync"
	"time"

	"github.com/deis/deis"
)

// authCache remembers, briefly, which user a token belongs to, so that the
// hot path of every request skips the store. Logout evicts at once; a token
// that expires stops working at its expiry, cached or not.
type authCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]authEntry
}

type authEntry struct {
	user    deis.User
	expires time.Time // the token's own expiry
	until   time.Time // when this entry must be read again from the store
}

const authCacheMax = 10000

func (c *authCache) get(hash string, now time.Time) (deis.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.After(e.until) || !now.Before(e.expires) {
		return deis.User{}, false
	}
	return e.user, true
}

func (c *authCache) put(hash string, u deis.User, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= authCacheMax {
		c.m = map[string]authEntry{}
	}
	c.m[hash] = authEntry{user: u, expires: expires, until: now.Add(c.ttl)}
}

func (c *authCache) evict(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}
