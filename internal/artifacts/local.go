package artifacts

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Local stores artifacts in a folder. Every access goes through an
// os.Root, so no path — whatever its symlinks — reaches outside the folder.
type Local struct {
	root *os.Root
	dir  string
}

var _ Store = (*Local)(nil)

// mpuDir holds the parts of unfinished multipart uploads, one directory per
// upload id; tmpPrefix starts the names of files being written.
const (
	mpuDir    = reservedPrefix + "mpu"
	tmpPrefix = reservedPrefix + "tmp-"
)

// NewLocal returns the store for the folder dir, creating it if missing.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifacts folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("artifacts folder: %w", err)
	}
	return &Local{root: root, dir: dir}, nil
}

// Close releases the folder.
func (l *Local) Close() error { return l.root.Close() }

// String names the folder.
func (l *Local) String() string { return l.dir }

// Put writes r to a temporary file next to path, syncs it and renames it
// into place.
func (l *Local) Put(ctx context.Context, p string, r io.Reader) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	_, err := l.writeAtomic(ctx, p, func(w io.Writer) error {
		_, err := io.Copy(w, ctxReader{ctx, r})
		return err
	})
	return err
}

// writeAtomic creates the parent directories of p, calls fill on a new
// temporary file in p's directory, syncs it and renames it to p. It
// returns the MD5 of what was written.
func (l *Local) writeAtomic(ctx context.Context, p string, fill func(io.Writer) error) (string, error) {
	dir := path.Dir(p)
	if dir != "." {
		if err := l.root.MkdirAll(dir, 0o755); err != nil {
			return "", l.pathErr(err)
		}
	}
	tmp := path.Join(dir, tmpPrefix+path.Base(p)+"-"+randomHex(8))
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", l.pathErr(err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			_ = l.root.Remove(tmp)
		}
	}()
	h := md5.New()
	if err := fill(io.MultiWriter(f, h)); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := l.root.Rename(tmp, p); err != nil {
		_ = l.root.Remove(tmp)
		done = true
		return "", l.pathErr(err)
	}
	done = true
	if d, err := l.root.Open(dir); err == nil { // persist the rename
		_ = d.Sync()
		d.Close()
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pathErr maps filesystem errors: missing → ErrNotFound; a path that is a
// file where a directory is needed, or the reverse → ErrInvalidPath.
func (l *Local) pathErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, fs.ErrExist), isNotDir(err):
		return fmt.Errorf("%w: %v", ErrInvalidPath, err)
	}
	return err
}

// Get opens the file at p.
func (l *Local) Get(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	if err := ValidatePath(p); err != nil {
		return nil, 0, err
	}
	f, err := l.root.Open(p)
	if err != nil {
		if isNotDir(err) {
			return nil, 0, fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		return nil, 0, l.pathErr(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, ErrIsDir
	}
	return f, st.Size(), nil
}

// List reads the directory dir.
func (l *Local) List(ctx context.Context, dir string) ([]FileInfo, error) {
	if err := validateDir(dir); err != nil {
		return nil, err
	}
	name := dir
	if name == "" {
		name = "."
	}
	f, err := l.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return []FileInfo{}, nil
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []FileInfo{}, nil
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), reservedPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if info.Mode()&fs.ModeSymlink != 0 { // follow, inside the root only
			if info, err = l.root.Stat(path.Join(name, e.Name())); err != nil {
				continue
			}
		}
		fi := FileInfo{Name: e.Name(), IsDir: info.IsDir()}
		if !fi.IsDir {
			fi.Size = info.Size()
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes the file or directory at p.
func (l *Local) Delete(ctx context.Context, p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if err := l.root.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotDir(err) {
		return l.pathErr(err)
	}
	return nil
}

// CreateMultipart makes a directory for the upload's parts, recording its
// target path.
func (l *Local) CreateMultipart(ctx context.Context, p string) (string, error) {
	if err := ValidatePath(p); err != nil {
		return "", err
	}
	id := randomHex(16)
	if err := l.root.MkdirAll(path.Join(mpuDir, id), 0o755); err != nil {
		return "", err
	}
	if err := l.root.WriteFile(path.Join(mpuDir, id, "target"), []byte(p), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

// upload checks that uploadID is an upload to p and returns its directory.
func (l *Local) upload(p, uploadID string) (string, error) {
	if err := ValidatePath(p); err != nil {
		return "", err
	}
	if !validUploadID(uploadID) {
		return "", fmt.Errorf("%w: malformed upload id", ErrInvalidUpload)
	}
	dir := path.Join(mpuDir, uploadID)
	target, err := l.root.ReadFile(path.Join(dir, "target"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: no upload %s", ErrNotFound, uploadID)
		}
		return "", err
	}
	if string(target) != p {
		return "", fmt.Errorf("%w: upload %s is not for this path", ErrInvalidUpload, uploadID)
	}
	return dir, nil
}

func partName(dir string, n int) string { return path.Join(dir, "part-"+strconv.Itoa(n)) }

// UploadPart writes one part (atomically) and returns its MD5 as ETag.
func (l *Local) UploadPart(ctx context.Context, p, uploadID string, n int, r io.Reader) (string, error) {
	dir, err := l.upload(p, uploadID)
	if err != nil {
		return "", err
	}
	if n < 1 || n > 10000 {
		return "", fmt.Errorf("%w: part number %d is not in 1..10000", ErrInvalidUpload, n)
	}
	sum, err := l.writeAtomic(ctx, partName(dir, n), func(w io.Writer) error {
		_, err := io.Copy(w, ctxReader{ctx, r})
		return err
	})
	if err != nil {
		return "", err
	}
	return `"` + sum + `"`, nil
}

// CompleteMultipart concatenates the listed parts into p atomically and
// drops the upload.
func (l *Local) CompleteMultipart(ctx context.Context, p, uploadID string, parts []Part) error {
	dir, err := l.upload(p, uploadID)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return fmt.Errorf("%w: no parts", ErrInvalidUpload)
	}
	for i, pt := range parts {
		if i > 0 && pt.Number <= parts[i-1].Number {
			return fmt.Errorf("%w: parts must be in ascending order", ErrInvalidUpload)
		}
	}
	_, err = l.writeAtomic(ctx, p, func(w io.Writer) error {
		for _, pt := range parts {
			f, err := l.root.Open(partName(dir, pt.Number))
			if err != nil {
				return fmt.Errorf("%w: part %d was not uploaded", ErrInvalidUpload, pt.Number)
			}
			h := md5.New()
			_, err = io.Copy(io.MultiWriter(w, h), ctxReader{ctx, f})
			f.Close()
			if err != nil {
				return err
			}
			if et := strings.Trim(pt.ETag, `"`); et != "" && et != hex.EncodeToString(h.Sum(nil)) {
				return fmt.Errorf("%w: part %d has a different ETag", ErrInvalidUpload, pt.Number)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return l.root.RemoveAll(dir)
}

// AbortMultipart removes the upload's parts.
func (l *Local) AbortMultipart(ctx context.Context, p, uploadID string) error {
	dir, err := l.upload(p, uploadID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return l.root.RemoveAll(dir)
}

// isNotDir reports whether err says a path component is a file.
func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && errors.Is(pe.Err, errNotDir)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ctxReader stops reading when ctx is done, so a cancelled request does not
// finish writing a file.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
