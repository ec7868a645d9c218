package artifacts

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalSymlinkEscape: a symlink inside the folder that points outside
// it is never followed, for any operation.
func TestLocalSymlinkEscape(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.MkdirAll(filepath.Join(dir, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "1", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "1", "file")); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the root stays usable.
	mustPut(t, l, "2/real", "ok")
	if err := os.Symlink("../2/real", filepath.Join(dir, "1", "inside")); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, l, "1/inside"); got != "ok" {
		t.Errorf("inside symlink read %q", got)
	}

	for _, p := range []string{"1/out/secret", "1/file"} {
		if rc, _, err := l.Get(ctx, p); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Get(%q) escaped the root: %q", p, b)
		}
	}
	if err := l.Put(ctx, "1/out/planted", strings.NewReader("x")); err == nil {
		t.Error("Put through an escaping symlink succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("a file was written outside the root")
	}
	if got, err := l.List(ctx, "1/out"); err == nil && len(got) > 0 {
		t.Errorf("List through an escaping symlink = %v", got)
	}
	got, err := l.List(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range got {
		if fi.Name == "out" || fi.Name == "file" {
			t.Errorf("List shows the escaping symlink %v", fi)
		}
	}
	if err := l.Delete(ctx, "1/out/secret"); err == nil {
		if _, serr := os.Stat(filepath.Join(outside, "secret")); serr != nil {
			t.Error("Delete removed a file outside the root")
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Errorf("the outside file is gone: %v", err)
	}
}

// TestS3PresignPart: a part PUT to the presigned URL, without any
// credentials, completes the upload.
func TestS3PresignPart(t *testing.T) {
	ctx := context.Background()
	s := newMotoStore(t, startMoto(t), "presign", "pre")
	id, err := s.CreateMultipart(ctx, "1/f")
	if err != nil {
		t.Fatal(err)
	}
	u, headers, err := s.PresignPart(ctx, "1/f", id, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", u, strings.NewReader("presigned bytes"))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}
	if err := s.CompleteMultipart(ctx, "1/f", id, []Part{{1, resp.Header.Get("ETag")}}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, s, "1/f"); got != "presigned bytes" {
		t.Errorf("got %q", got)
	}
	if _, _, err := s.Get(ctx, "1"); !errors.Is(err, ErrIsDir) {
		t.Errorf("Get of a prefix = %v, want ErrIsDir", err)
	}
}
