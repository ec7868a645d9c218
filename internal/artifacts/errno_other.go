//go:build !unix

package artifacts

import "errors"

// errNotDir is never returned on this platform.
var errNotDir = errors.New("not a directory")
