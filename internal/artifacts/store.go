// Package artifacts stores artifact bytes for the proxied artifact service
// (mlflow-artifacts): a Store interface with a local-folder and an S3
// implementation, chosen by --artifacts-destination. Paths are relative
// slash paths, checked by ValidatePath; bytes stream through, never held
// whole in memory.
package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Errors the stores return; the server maps them to MLflow error codes.
var (
	// ErrNotFound: the file (or upload) does not exist.
	ErrNotFound = errors.New("artifact not found")
	// ErrIsDir: a file was asked for and the path is a directory.
	ErrIsDir = errors.New("artifact path is a directory")
	// ErrInvalidPath: the path is not a safe relative path (see ValidatePath).
	ErrInvalidPath = errors.New("invalid artifact path")
	// ErrInvalidUpload: a multipart upload id, part number or part list is wrong.
	ErrInvalidUpload = errors.New("invalid multipart upload")
)

// FileInfo is one entry of a listing: a base name, whether it is a
// directory, and the size of a file.
type FileInfo struct {
	Name  string
	IsDir bool
	Size  int64
}

// Part is a finished part of a multipart upload.
type Part struct {
	Number int
	ETag   string
}

// Store keeps artifact files under relative slash paths. Every method
// validates its paths with ValidatePath and answers ErrInvalidPath for a
// bad one.
type Store interface {
	// Put stores the bytes of r under path, replacing any file there. It is
	// atomic: until it returns nil nothing (or the previous file) is visible
	// under path, and a failed or interrupted Put leaves no partial file.
	Put(ctx context.Context, path string, r io.Reader) error
	// Get opens the file at path for reading and returns its size.
	// Errors: ErrNotFound, ErrIsDir.
	Get(ctx context.Context, path string) (io.ReadCloser, int64, error)
	// List returns the immediate children of the directory dir ("" is the
	// root), sorted by name. A missing directory, or a file, lists as empty.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Delete removes the file or the whole directory at path; a missing
	// path is not an error.
	Delete(ctx context.Context, path string) error

	// CreateMultipart starts a multipart upload to path and returns its id.
	CreateMultipart(ctx context.Context, path string) (uploadID string, err error)
	// UploadPart stores part number n (1-based) of an upload and returns
	// its ETag. Errors: ErrNotFound (no such upload), ErrInvalidUpload.
	UploadPart(ctx context.Context, path, uploadID string, n int, r io.Reader) (etag string, err error)
	// CompleteMultipart joins the parts, in order, into the file at path.
	// Errors: ErrNotFound (no such upload), ErrInvalidUpload.
	CompleteMultipart(ctx context.Context, path, uploadID string, parts []Part) error
	// AbortMultipart drops an upload and its parts; an unknown upload is not an error.
	AbortMultipart(ctx context.Context, path, uploadID string) error
}

// PartPresigner is implemented by stores whose clients upload parts
// straight to the storage service (S3): it returns a URL to PUT part n to,
// and the headers to send with it.
type PartPresigner interface {
	PresignPart(ctx context.Context, path, uploadID string, n int, ttl time.Duration) (url string, headers map[string]string, err error)
}

// reservedPrefix starts the names the stores use for their own files
// (temporary files, multipart parts); no artifact path may use it.
const reservedPrefix = ".mlflow-"

// ValidatePath checks that p is a safe relative artifact path, already
// URL-decoded: not empty, not absolute, no backslash, no NUL or other
// control character, no empty, "." or ".." segment, and no segment using
// the stores' reserved ".mlflow-" prefix. It is the one check every store
// and handler relies on.
func ValidatePath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: the path is empty", ErrInvalidPath)
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: %q is absolute", ErrInvalidPath, p)
	}
	for _, c := range p {
		if c == '\\' {
			return fmt.Errorf("%w: %q contains a backslash", ErrInvalidPath, p)
		}
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidPath, p)
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%w: %q has an empty segment", ErrInvalidPath, p)
		case seg == "." || seg == "..":
			return fmt.Errorf("%w: %q has a %q segment", ErrInvalidPath, p, seg)
		case strings.HasPrefix(seg, reservedPrefix):
			return fmt.Errorf("%w: %q uses the reserved prefix %q", ErrInvalidPath, p, reservedPrefix)
		}
	}
	if len(p) >= 2 && p[1] == ':' {
		return fmt.Errorf("%w: %q looks like a drive path", ErrInvalidPath, p)
	}
	return nil
}

// validateDir is ValidatePath for a directory, where "" is the root.
func validateDir(dir string) error {
	if dir == "" {
		return nil
	}
	return ValidatePath(dir)
}

// validUploadID reports whether id is an upload id this package could have
// made (hex), so that it is safe to use in a file name.
func validUploadID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Open returns the store for an --artifacts-destination: "s3://bucket/prefix"
// is S3 (configured from getenv, see S3OptionsFromEnv), anything else a local
// folder, created if missing ("file://" accepted).
func Open(ctx context.Context, dest string, getenv func(string) string) (Store, error) {
	switch {
	case strings.HasPrefix(dest, "s3://"):
		return NewS3(ctx, dest, S3OptionsFromEnv(getenv))
	case strings.HasPrefix(dest, "file://"):
		return NewLocal(strings.TrimPrefix(dest, "file://"))
	case strings.Contains(dest, "://"):
		return nil, fmt.Errorf("artifacts destination %q: only a folder or s3://bucket/prefix is supported", dest)
	}
	return NewLocal(dest)
}
