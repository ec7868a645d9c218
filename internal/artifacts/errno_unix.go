//go:build unix

package artifacts

import "syscall"

// errNotDir is the error for a path whose directory part is a file.
var errNotDir error = syscall.ENOTDIR
