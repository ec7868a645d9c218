package artifacts

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Memory keeps artifacts in memory. It is for tests (and servers built
// without a destination): it holds whole files and loses them on exit.
type Memory struct {
	mu      sync.Mutex
	files   map[string][]byte
	uploads map[string]*memUpload
}

type memUpload struct {
	path  string
	parts map[int][]byte
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{files: map[string][]byte{}, uploads: map[string]*memUpload{}}
}

// Put reads r whole, then stores it.
func (m *Memory) Put(ctx context.Context, p string, r io.Reader) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	b, err := io.ReadAll(ctxReader{ctx, r})
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isDirLocked(p) {
		return fmt.Errorf("%w: %s is a directory", ErrInvalidPath, p)
	}
	for d := parentOf(p); d != ""; d = parentOf(d) {
		if _, ok := m.files[d]; ok {
			return fmt.Errorf("%w: %s is a file", ErrInvalidPath, d)
		}
	}
	m.files[p] = b
	return nil
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (m *Memory) isDirLocked(p string) bool {
	for k := range m.files {
		if strings.HasPrefix(k, p+"/") {
			return true
		}
	}
	return false
}

// Get returns a reader over a copy-free view of the file.
func (m *Memory) Get(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	if err := ValidatePath(p); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[p]
	if !ok {
		if m.isDirLocked(p) {
			return nil, 0, ErrIsDir
		}
		return nil, 0, ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// List returns the children of dir.
func (m *Memory) List(ctx context.Context, dir string) ([]FileInfo, error) {
	if err := validateDir(dir); err != nil {
		return nil, err
	}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]FileInfo{}
	for k, b := range m.files {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			seen[name] = FileInfo{Name: name, IsDir: true}
		} else {
			seen[name] = FileInfo{Name: name, Size: int64(len(b))}
		}
	}
	out := make([]FileInfo, 0, len(seen))
	for _, fi := range seen {
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes p and everything below it.
func (m *Memory) Delete(ctx context.Context, p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.files {
		if k == p || strings.HasPrefix(k, p+"/") {
			delete(m.files, k)
		}
	}
	return nil
}

// CreateMultipart starts an upload.
func (m *Memory) CreateMultipart(ctx context.Context, p string) (string, error) {
	if err := ValidatePath(p); err != nil {
		return "", err
	}
	id := randomHex(16)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uploads[id] = &memUpload{path: p, parts: map[int][]byte{}}
	return id, nil
}

func (m *Memory) uploadLocked(p, id string) (*memUpload, error) {
	if err := ValidatePath(p); err != nil {
		return nil, err
	}
	u, ok := m.uploads[id]
	if !ok {
		return nil, fmt.Errorf("%w: no upload %s", ErrNotFound, id)
	}
	if u.path != p {
		return nil, fmt.Errorf("%w: upload %s is not for this path", ErrInvalidUpload, id)
	}
	return u, nil
}

func etagOf(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

// UploadPart stores one part.
func (m *Memory) UploadPart(ctx context.Context, p, id string, n int, r io.Reader) (string, error) {
	if n < 1 || n > 10000 {
		return "", fmt.Errorf("%w: part number %d is not in 1..10000", ErrInvalidUpload, n)
	}
	b, err := io.ReadAll(ctxReader{ctx, r})
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.uploadLocked(p, id)
	if err != nil {
		return "", err
	}
	u.parts[n] = b
	return etagOf(b), nil
}

// CompleteMultipart joins the parts into the file.
func (m *Memory) CompleteMultipart(ctx context.Context, p, id string, parts []Part) error {
	m.mu.Lock()
	u, err := m.uploadLocked(p, id)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	if len(parts) == 0 {
		m.mu.Unlock()
		return fmt.Errorf("%w: no parts", ErrInvalidUpload)
	}
	var buf bytes.Buffer
	for i, pt := range parts {
		b, ok := u.parts[pt.Number]
		if !ok || (i > 0 && pt.Number <= parts[i-1].Number) {
			m.mu.Unlock()
			return fmt.Errorf("%w: part %d missing or out of order", ErrInvalidUpload, pt.Number)
		}
		if pt.ETag != "" && strings.Trim(pt.ETag, `"`) != strings.Trim(etagOf(b), `"`) {
			m.mu.Unlock()
			return fmt.Errorf("%w: part %d has a different ETag", ErrInvalidUpload, pt.Number)
		}
		buf.Write(b)
	}
	delete(m.uploads, id)
	m.mu.Unlock()
	return m.Put(ctx, p, &buf)
}

// AbortMultipart drops an upload.
func (m *Memory) AbortMultipart(ctx context.Context, p, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.uploadLocked(p, id); err != nil {
		if err2 := ValidatePath(p); err2 != nil {
			return err2
		}
		return nil
	}
	delete(m.uploads, id)
	return nil
}
