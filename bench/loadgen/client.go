package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// client sends requests to one tracking server, on loopback only.
type client struct {
	base  string // scheme://host[:port][/prefix], no trailing slash
	hc    *http.Client
	token string // sent as "Authorization: Bearer <token>" when not empty
}

// checkLoopbackURL accepts only http(s) URLs whose host is 127.0.0.1,
// localhost or ::1, and returns the URL without a trailing slash.
func checkLoopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad -url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("bad -url %q: the scheme must be http or https", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("bad -url %q: no user info, query or fragment allowed", raw)
	}
	switch strings.ToLower(u.Hostname()) {
	case "127.0.0.1", "localhost", "::1":
	default:
		return "", fmt.Errorf("refusing -url %q: only loopback hosts (127.0.0.1, localhost, [::1]) may be benchmarked", raw)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// loopbackOnly is a net.Dialer Control function: it runs after name
// resolution, on the address actually dialled, and refuses anything that is
// not a loopback IP (e.g. a "localhost" that resolves elsewhere).
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to connect to non-loopback address %s", address)
	}
	return nil
}

func newClient(rawURL string, conns int, timeout time.Duration) (*client, error) {
	base, err := checkLoopbackURL(rawURL)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	tr := &http.Transport{
		Proxy:                 nil, // never go through HTTP(S)_PROXY
		DialContext:           dialer.DialContext,
		MaxIdleConns:          conns + 4,
		MaxIdleConnsPerHost:   conns + 4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     false,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
	return &client{base: base, hc: hc}, nil
}

// request is one prepared HTTP request; path is relative to the base URL.
type request struct {
	method string
	path   string
	query  url.Values
	body   []byte
}

// raw sends one request and returns the status and the whole body.
func (c *client) raw(ctx context.Context, method, path string, query url.Values, body []byte) (int, []byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "mlflow-sharinghub-bench-loadgen/1")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("reading the response: %w", err)
	}
	return resp.StatusCode, b, nil
}

// apiError is a non-200 answer, or a 200 whose body is not a JSON object.
type apiError struct {
	method, path string
	status       int
	body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.status, truncate(e.body, 500))
}

// do sends r and checks that the answer is 200 with a JSON object body.
// It returns the body so that callers may decode it.
func (c *client) do(ctx context.Context, r request) ([]byte, error) {
	status, body, err := c.raw(ctx, r.method, r.path, r.query, r.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if status != 200 {
		return body, &apiError{method: r.method, path: r.path, status: status, body: string(body)}
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return body, &apiError{method: r.method, path: r.path, status: status, body: "body is not a JSON object: " + string(body)}
	}
	return body, nil
}

// call sends a JSON request (POST with in as body, or GET with query) and
// decodes the answer into out when out is not nil.
func (c *client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r := request{method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		r.body = b
	}
	body, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
