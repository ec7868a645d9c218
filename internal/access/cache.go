package access

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"time"
)

// DefaultCacheEntries bounds a Cache when NewCache is given no bound.
const DefaultCacheEntries = 10000

// Cache is a Provider that remembers another provider's answers.
//
// Authenticate is cached per credential, Project per (credential, project
// reference) and Projects per credential, each for the TTL
// (PROJECT_CACHE_TIMEOUT). Answers that are ErrNotFound or
// ErrUnauthenticated are cached like grants (a denial is as stable as an
// allow); ErrUnavailable and any other error is never cached, so an outage
// is retried on the next lookup and, with no fresh entry, returned: the
// caller answers 503 and allows nothing. A stale entry is never served.
//
// Concurrent lookups of the same key with no fresh entry share one provider
// call. That call runs detached from the callers' cancellation (the
// provider's own timeouts bound it); a caller whose context ends stops
// waiting with the context's error.
//
// The cache holds at most maxEntries entries and evicts the least recently
// used. Keys hold an HMAC of the secret under a per-process random key,
// never the secret.
type Cache struct {
	p    Provider
	ttl  time.Duration
	max  int
	now  func() time.Time // replaced in tests
	macs sync.Pool        // of HMAC-SHA256 hashes under a random per-cache key

	mu      sync.Mutex
	lru     *list.List // of *cacheEntry, most recent first
	entries map[cacheKey]*list.Element
	flight  map[cacheKey]*flight
	stats   CacheStats
}

var _ Provider = (*Cache)(nil)

// CacheStats counts what a Cache did, for metrics and tests.
type CacheStats struct {
	Hits          uint64 // lookups answered from a fresh entry
	Misses        uint64 // lookups without a fresh entry (ProviderCalls + Collapsed)
	ProviderCalls uint64 // calls made to the wrapped provider
	Collapsed     uint64 // lookups that waited for another lookup's provider call
	Evictions     uint64 // fresh or expired entries dropped to stay within the bound
	Entries       int    // entries held now
}

// cacheOp tells the cached method apart in a key.
type cacheOp uint8

const (
	opAuthenticate cacheOp = iota + 1
	opProject
	opProjects
)

type cacheKey struct {
	op   cacheOp
	cred [sha256.Size]byte // HMAC(kind, secret)
	path string
}

type cacheEntry struct {
	key     cacheKey
	val     any
	err     error
	expires time.Time
}

type flight struct {
	done chan struct{}
	val  any
	err  error
}

// NewCache wraps p. ttl is how long an answer stays fresh (zero or less:
// answers are not kept, concurrent lookups are still collapsed); maxEntries
// bounds the entries held (zero or less: DefaultCacheEntries).
func NewCache(p Provider, ttl time.Duration, maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	mac := make([]byte, 32)
	rand.Read(mac)
	return &Cache{
		p: p, ttl: ttl, max: maxEntries, now: time.Now,
		macs:    sync.Pool{New: func() any { return hmac.New(sha256.New, mac) }},
		lru:     list.New(),
		entries: map[cacheKey]*list.Element{},
		flight:  map[cacheKey]*flight{},
	}
}

// Stats returns the counters so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	return s
}

// Purge drops every entry (counters are kept). Calls in flight complete and
// store their answers.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.entries)
}

// Authenticate implements Provider.
func (c *Cache) Authenticate(ctx context.Context, cred Credential) (Principal, error) {
	v, err := c.do(ctx, c.key(opAuthenticate, cred, ""), func(ctx context.Context) (any, error) {
		return c.p.Authenticate(ctx, cred)
	})
	p, _ := v.(Principal)
	return p, err
}

// Project implements Provider. A provider that needs the caller's identity
// for project lookups (GitLab) gets it from the cached Authenticate.
func (c *Cache) Project(ctx context.Context, cred Credential, path string) (Grant, error) {
	v, err := c.do(ctx, c.key(opProject, cred, path), func(ctx context.Context) (any, error) {
		r, ok := c.p.(resolver)
		if !ok {
			return c.p.Project(ctx, cred, path)
		}
		who, err := c.Authenticate(ctx, cred)
		if err != nil {
			return Grant{}, err
		}
		return r.projectAs(ctx, cred, who, path)
	})
	g, _ := v.(Grant)
	return g, err
}

// Projects implements Provider. The returned slice is the caller's own.
func (c *Cache) Projects(ctx context.Context, cred Credential) ([]Grant, error) {
	v, err := c.do(ctx, c.key(opProjects, cred, ""), func(ctx context.Context) (any, error) {
		r, ok := c.p.(resolver)
		if !ok {
			return c.p.Projects(ctx, cred)
		}
		who, err := c.Authenticate(ctx, cred)
		if err != nil {
			return []Grant(nil), err
		}
		return r.projectsAs(ctx, cred, who)
	})
	gs, _ := v.([]Grant)
	return slices.Clone(gs), err
}

// key fingerprints the credential; the secret itself is not kept.
func (c *Cache) key(op cacheOp, cred Credential, path string) cacheKey {
	h := c.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte{byte(cred.Kind), 0})
	io.WriteString(h, cred.Secret)
	k := cacheKey{op: op, path: path}
	h.Sum(k.cred[:0])
	c.macs.Put(h)
	return k
}

// cacheable: answers about the credential or project, not about the upstream.
func cacheable(err error) bool {
	return err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthenticated)
}

// do answers k from a fresh entry, or joins the provider call in flight for
// k, or starts one.
func (c *Cache) do(ctx context.Context, k cacheKey, fn func(context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*cacheEntry)
		if c.now().Before(e.expires) {
			c.lru.MoveToFront(el)
			c.stats.Hits++
			c.mu.Unlock()
			return e.val, e.err
		}
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	c.stats.Misses++
	f, joined := c.flight[k]
	if joined {
		c.stats.Collapsed++
	} else {
		f = &flight{done: make(chan struct{})}
		c.flight[k] = f
		c.stats.ProviderCalls++
		go c.run(context.WithoutCancel(ctx), k, f, fn)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run makes the provider call for k and publishes its answer.
func (c *Cache) run(ctx context.Context, k cacheKey, f *flight, fn func(context.Context) (any, error)) {
	defer func() {
		if r := recover(); r != nil {
			f.val, f.err = nil, fmt.Errorf("access provider panicked: %v: %w", r, ErrUnavailable)
		}
		c.mu.Lock()
		delete(c.flight, k)
		if c.ttl > 0 && cacheable(f.err) {
			c.store(k, f.val, f.err)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = fn(ctx)
}

// store adds or replaces k's entry and evicts beyond the bound; c.mu held.
func (c *Cache) store(k cacheKey, val any, err error) {
	e := &cacheEntry{key: k, val: val, err: err, expires: c.now().Add(c.ttl)}
	if el, ok := c.entries[k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.max {
		el := c.lru.Back()
		c.lru.Remove(el)
		delete(c.entries, el.Value.(*cacheEntry).key)
		c.stats.Evictions++
	}
}
