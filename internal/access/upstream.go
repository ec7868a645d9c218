package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every upstream call when an option leaves it zero.
const DefaultTimeout = 10 * time.Second

// maxReplyBytes bounds an upstream reply body (a page of 100 GitLab projects
// is a few hundred KiB).
const maxReplyBytes = 8 << 20

// upstream is an HTTP JSON API we ask questions (GitLab, SharingHub).
type upstream struct {
	name    string // "gitlab" or "sharinghub", for error messages
	base    string // scheme://host[/prefix], no trailing slash
	client  *http.Client
	timeout time.Duration
}

// newUpstream checks baseURL and prepares a client that does not follow
// redirects: a redirect would forward headers such as PRIVATE-TOKEN or
// JOB-TOKEN to wherever it points, and usually means a wrong base URL.
func newUpstream(name, baseURL string, client *http.Client, timeout time.Duration) (*upstream, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("%s URL %q: %v", name, baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: want http(s)://host[/path]", name, baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s URL %q: must not carry a query, fragment or user info", name, baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &upstream{name: name, base: u.String(), client: &c, timeout: timeout}, nil
}

// reply is an upstream answer with any status.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+pathQuery with the headers and cookies auth sets, and
// reads the whole reply. pathQuery must already be escaped. Transport
// failures, timeouts, redirects and oversized bodies are ErrUnavailable; any
// HTTP status is returned for the caller to classify.
func (u *upstream) get(ctx context.Context, pathQuery string, auth func(*http.Request)) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.base+pathQuery, nil)
	if err != nil {
		return reply{}, fmt.Errorf("%s GET %s: %v: %w", u.name, pathQuery, err, ErrUnavailable)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mlflow-sharinghub")
	if auth != nil {
		auth(req)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		// url.Error carries the URL, which holds no secret (credentials
		// travel in headers only); drop it anyway for short messages.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return reply{}, fmt.Errorf("%s GET %s: %v: %w", u.name, pathQuery, err, ErrUnavailable)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return reply{}, fmt.Errorf("%s GET %s: reading reply: %v: %w", u.name, pathQuery, err, ErrUnavailable)
	}
	if len(body) > maxReplyBytes {
		return reply{}, fmt.Errorf("%s GET %s: reply larger than %d bytes: %w", u.name, pathQuery, maxReplyBytes, ErrUnavailable)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return reply{}, fmt.Errorf("%s GET %s: unexpected redirect (%d) to %q; check the configured URL: %w",
			u.name, pathQuery, resp.StatusCode, resp.Header.Get("Location"), ErrUnavailable)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// unexpected classifies a status the caller has no specific meaning for:
// always ErrUnavailable (fail closed).
func (u *upstream) unexpected(pathQuery string, r reply) error {
	return fmt.Errorf("%s GET %s: HTTP %d: %w", u.name, pathQuery, r.status, ErrUnavailable)
}

// decode unmarshals a 2xx reply; an unreadable body is ErrUnavailable.
func (u *upstream) decode(pathQuery string, r reply, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%s GET %s: unreadable reply: %v: %w", u.name, pathQuery, err, ErrUnavailable)
	}
	return nil
}
