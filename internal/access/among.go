package access

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
)

// amongParallel bounds the concurrent Project calls of Among.
const amongParallel = 8

// Among returns the grants c has among candidate projects (paths or ids),
// asking p.Project for each, at most 8 at a time. Candidates c cannot read
// are left out. It is the global-scope listing for providers that cannot
// enumerate projects (SharingHub): the server passes the projects it holds
// data for, and a Cache in front of p keeps repeated calls cheap. Errors
// other than ErrNotFound (ErrUnauthenticated, ErrUnavailable) fail the whole
// call: a partial list is never mistaken for a complete one. The result is
// sorted by path, one grant per project id.
func Among(ctx context.Context, p Provider, c Credential, candidates []string) ([]Grant, error) {
	var (
		mu    sync.Mutex
		out   []Grant
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, amongParallel)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, cand := range candidates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g, err := p.Project(ctx, c, cand)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out = append(out, g)
			case errors.Is(err, ErrNotFound):
			case first == nil:
				first = err
				cancel()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	slices.SortFunc(out, func(a, b Grant) int {
		if c := strings.Compare(a.Project.Path, b.Project.Path); c != 0 {
			return c
		}
		return cmp.Compare(a.Project.ID, b.Project.ID)
	})
	out = slices.CompactFunc(out, func(a, b Grant) bool { return a.Project.ID == b.Project.ID })
	if out == nil {
		out = []Grant{}
	}
	return out, nil
}
