package artifacts

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

func TestValidatePath(t *testing.T) {
	good := []string{"1", "1/abc/artifacts/model/MLmodel", "a b/ç.txt", "x/.hidden", "x/..y", "x/y..", "ab:c", "x/c:"}
	for _, p := range good {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}
	bad := []string{"", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b", "a//b", "a/",
		`a\b`, `..\x`, "a\x00b", "a\nb", "C:/x", "c:", "1/.mlflow-mpu/x", ".mlflow-tmp-a"}
	for _, p := range bad {
		if err := ValidatePath(p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"a/b", "../a", "a/./b", `a\b`, "/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidatePath(p) != nil {
			return
		}
		if filepath.IsAbs(p) || !filepath.IsLocal(p) || filepath.Clean(p) != p {
			t.Fatalf("ValidatePath accepted %q", p)
		}
	})
}

// TestLocalConformance runs the store suite on a temp folder.
func TestLocalConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) Store {
		l, err := NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}

// TestS3Conformance runs the store suite on a moto S3 server started on
// loopback. Without moto_server it skips, except with CI=true, where it fails.
func TestS3Conformance(t *testing.T) {
	endpoint := startMoto(t)
	var n int
	var mu sync.Mutex
	runConformance(t, func(t *testing.T) Store {
		mu.Lock()
		n++
		bucket := fmt.Sprintf("conf-%d-%d", time.Now().UnixNano()%1e6, n)
		mu.Unlock()
		return newMotoStore(t, endpoint, bucket, "some/prefix")
	})
}

func newMotoStore(t *testing.T, endpoint, bucket, prefix string) *S3 {
	t.Helper()
	ctx := context.Background()
	s, err := NewS3(ctx, "s3://"+bucket+"/"+prefix, S3Options{
		Endpoint: endpoint, Region: "us-east-1", AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	s.partSize = 5 << 20 // S3's minimum, so Put's multipart path runs on small data
	return s
}

// startMoto starts moto_server on a free loopback port and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MLFLOW_SHARINGHUB_MOTO")
	if bin == "" {
		if p, err := exec.LookPath("moto_server"); err == nil {
			bin = p
		} else if p, err := filepath.Abs("../../.venv/moto/bin/moto_server"); err == nil {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("moto_server not found (pip install 'moto[server]', or set MLFLOW_SHARINGHUB_MOTO): the S3 suite is mandatory in CI")
		}
		t.Skip("moto_server not found: pip install 'moto[server]' to run the S3 suite")
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("moto_server did not start within 30s")
	}
	return ""
}

func mustPut(t *testing.T, s Store, p, body string) {
	t.Helper()
	if err := s.Put(context.Background(), p, strings.NewReader(body)); err != nil {
		t.Fatalf("Put %s: %v", p, err)
	}
}

func mustRead(t *testing.T, s Store, p string) string {
	t.Helper()
	rc, size, err := s.Get(context.Background(), p)
	if err != nil {
		t.Fatalf("Get %s: %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != size {
		t.Errorf("Get %s: size %d, read %d bytes", p, size, len(b))
	}
	return string(b)
}

// failingReader returns data then an error, like a dropped connection.
type failingReader struct{ left int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	f.left -= n
	return n, nil
}

// runConformance is the behaviour every Store must have.
func runConformance(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("PutGetList", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "1/r/artifacts/a.txt", "hello")
		mustPut(t, s, "1/r/artifacts/dir/b.json", `{"b":1}`)
		mustPut(t, s, "1/r/artifacts/dir/sub/c.bin", "ccc")
		mustPut(t, s, "1/r/artifacts/empty", "")
		if got := mustRead(t, s, "1/r/artifacts/a.txt"); got != "hello" {
			t.Errorf("a.txt = %q", got)
		}
		if got := mustRead(t, s, "1/r/artifacts/empty"); got != "" {
			t.Errorf("empty = %q", got)
		}
		got, err := s.List(ctx, "1/r/artifacts")
		if err != nil {
			t.Fatal(err)
		}
		want := []FileInfo{{Name: "a.txt", Size: 5}, {Name: "dir", IsDir: true}, {Name: "empty"}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("List (-want +got):\n%s", d)
		}
		got, _ = s.List(ctx, "1/r/artifacts/dir")
		want = []FileInfo{{Name: "b.json", Size: 7}, {Name: "sub", IsDir: true}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("List dir (-want +got):\n%s", d)
		}
		root, _ := s.List(ctx, "")
		if d := cmp.Diff([]FileInfo{{Name: "1", IsDir: true}}, root); d != "" {
			t.Errorf("List root (-want +got):\n%s", d)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "1/f", "first, longer")
		mustPut(t, s, "1/f", "second")
		if got := mustRead(t, s, "1/f"); got != "second" {
			t.Errorf("got %q", got)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "1/dir/f", "x")
		if _, _, err := s.Get(ctx, "1/nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get missing = %v, want ErrNotFound", err)
		}
		if _, _, err := s.Get(ctx, "1/dir/f/below"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get below a file = %v, want ErrNotFound", err)
		}
		if _, _, err := s.Get(ctx, "1/dir"); !errors.Is(err, ErrIsDir) {
			t.Errorf("Get dir = %v, want ErrIsDir", err)
		}
		for _, d := range []string{"2", "1/nope/deeper", "1/dir/f"} {
			got, err := s.List(ctx, d)
			if err != nil || got == nil || len(got) != 0 {
				t.Errorf("List(%q) = %v, %v; want empty", d, got, err)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "1/a/x", "x")
		mustPut(t, s, "1/a/b/y", "y")
		mustPut(t, s, "1/keep", "k")
		mustPut(t, s, "1/ab", "not below 1/a")
		if err := s.Delete(ctx, "1/a/x"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, "1/a/x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted file: %v", err)
		}
		if err := s.Delete(ctx, "1/a"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.List(ctx, "1/a"); len(got) != 0 {
			t.Errorf("deleted dir lists %v", got)
		}
		if err := s.Delete(ctx, "1/never"); err != nil {
			t.Errorf("Delete missing = %v, want nil", err)
		}
		got, _ := s.List(ctx, "1")
		if d := cmp.Diff([]FileInfo{{Name: "ab", Size: 13}, {Name: "keep", Size: 1}}, got); d != "" {
			t.Errorf("after delete (-want +got):\n%s", d)
		}
	})

	t.Run("InvalidPaths", func(t *testing.T) {
		s := newStore(t)
		for _, p := range []string{"../x", "/abs", "a/../../x", `a\..\x`, "a//b", ".mlflow-mpu/x"} {
			if err := s.Put(ctx, p, strings.NewReader("x")); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Put(%q) = %v", p, err)
			}
			if _, _, err := s.Get(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Get(%q) = %v", p, err)
			}
			if _, err := s.List(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("List(%q) = %v", p, err)
			}
			if err := s.Delete(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Delete(%q) = %v", p, err)
			}
			if _, err := s.CreateMultipart(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("CreateMultipart(%q) = %v", p, err)
			}
		}
	})

	t.Run("InterruptedPutLeavesNothing", func(t *testing.T) {
		s := newStore(t)
		err := s.Put(ctx, "1/big", &failingReader{left: 12 << 20})
		if err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		if _, _, err := s.Get(ctx, "1/big"); !errors.Is(err, ErrNotFound) {
			t.Errorf("after a failed Put, Get = %v, want ErrNotFound", err)
		}
		if got, _ := s.List(ctx, "1"); len(got) != 0 {
			t.Errorf("after a failed Put, List = %v, want empty", got)
		}
		mustPut(t, s, "1/big", "old")
		if err := s.Put(ctx, "1/big", &failingReader{left: 1 << 20}); err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		if got := mustRead(t, s, "1/big"); got != "old" {
			t.Errorf("a failed overwrite changed the file to %d bytes", len(got))
		}
	})

	t.Run("LargeStream", func(t *testing.T) {
		s := newStore(t)
		data := make([]byte, 11<<20+123) // more than two S3 parts
		_, _ = rand.Read(data)
		if err := s.Put(ctx, "1/large", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, s, "1/large"); got != string(data) {
			t.Error("large file round trip differs")
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		s := newStore(t)
		p1 := bytes.Repeat([]byte("a"), 5<<20)
		p2 := []byte("tail")
		id, err := s.CreateMultipart(ctx, "1/r/artifacts/mp.bin")
		if err != nil {
			t.Fatal(err)
		}
		e2, err := s.UploadPart(ctx, "1/r/artifacts/mp.bin", id, 2, bytes.NewReader(p2))
		if err != nil {
			t.Fatal(err)
		}
		e1, err := s.UploadPart(ctx, "1/r/artifacts/mp.bin", id, 1, bytes.NewReader(p1))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, "1/r/artifacts/mp.bin"); !errors.Is(err, ErrNotFound) {
			t.Errorf("before complete, Get = %v, want ErrNotFound", err)
		}
		if got, _ := s.List(ctx, "1/r/artifacts"); len(got) != 0 {
			t.Errorf("before complete, List = %v", got)
		}
		if err := s.CompleteMultipart(ctx, "1/r/artifacts/mp.bin", id, []Part{{1, e1}, {2, e2}}); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, s, "1/r/artifacts/mp.bin"); got != string(p1)+string(p2) {
			t.Errorf("multipart result has %d bytes, want %d", len(got), len(p1)+len(p2))
		}
		if root, _ := s.List(ctx, ""); len(root) != 1 {
			t.Errorf("multipart bookkeeping visible in the root: %v", root)
		}
	})

	t.Run("MultipartAbortAndMisuse", func(t *testing.T) {
		s := newStore(t)
		id, err := s.CreateMultipart(ctx, "1/x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UploadPart(ctx, "1/x", id, 1, strings.NewReader("abc")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UploadPart(ctx, "1/x", id, 0, strings.NewReader("abc")); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("part 0 = %v, want ErrInvalidUpload", err)
		}
		if err := s.AbortMultipart(ctx, "1/x", id); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteMultipart(ctx, "1/x", id, []Part{{Number: 1}}); err == nil {
			t.Error("complete after abort succeeded")
		}
		if _, _, err := s.Get(ctx, "1/x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("after abort, Get = %v", err)
		}
	})
}

// TestMemoryConformance runs the store suite on the in-memory store.
func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) Store { return NewMemory() })
}
