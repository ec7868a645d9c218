package auth

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// ExternalBase returns how the client reached us, for every URL we hand out
// (redirects, the OAuth redirect_uri, links, cookie paths): the scheme from
// X-Forwarded-Proto (else https when the connection is TLS, else http), the
// host from X-Forwarded-Host (else the Host header) and the path prefix the
// reverse proxy strips, from X-Forwarded-Prefix (else X-Script-Name, which
// the Python plugin read). prefix is "" or starts with "/" and has no
// trailing slash, so prefix+"/auth/login" is always right.
//
// For a list value ("https, http") the first element, set by the proxy
// nearest the client, wins. Values that are not a plain scheme, host or path
// are ignored rather than trusted. The headers come from the client unless a
// proxy overwrites them; a forged value only changes the URLs in the forger's
// own responses (the OAuth provider still refuses an unregistered
// redirect_uri), and our auth responses are marked no-store so that no cache
// can hand them to someone else.
func ExternalBase(r *http.Request) (scheme, host, prefix string) {
	scheme = "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	host = r.Host
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
		host = h
	}
	if p, ok := cleanPrefix(firstValue(r.Header.Get("X-Forwarded-Prefix"))); ok {
		prefix = p
	} else if p, ok := cleanPrefix(firstValue(r.Header.Get("X-Script-Name"))); ok {
		prefix = p
	}
	return scheme, host, prefix
}

// ExternalURL returns the absolute external URL of p, a path below the
// prefix ("/auth/authorize").
func ExternalURL(r *http.Request, p string) string {
	scheme, host, prefix := ExternalBase(r)
	return scheme + "://" + host + prefix + p
}

// isHTTPS reports whether the client reached us over HTTPS.
func isHTTPS(r *http.Request) bool {
	s, _, _ := ExternalBase(r)
	return s == "https"
}

// cookiePath is the path our cookies are scoped to: the external prefix.
func cookiePath(r *http.Request) string {
	_, _, prefix := ExternalBase(r)
	if prefix == "" {
		return "/"
	}
	return prefix
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost accepts host, host:port, IPv4 and [IPv6]:port.
func validHost(h string) bool {
	if len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

// cleanPrefix normalises a proxy prefix to "" or "/a/b". It refuses
// anything that is not a plain absolute path.
func cleanPrefix(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x21 || c == 0x7f || c == '\\' || c == '?' || c == '#' || c == '"' || c == ';' {
			return "", false
		}
	}
	if strings.Contains(p, "//") {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return strings.TrimSuffix(p, "/"), true
}

// SafeNext returns next if it is a path on our own site, below prefix
// (the external prefix), and prefix+"/" otherwise. It is the only guard on
// post-login redirects: next must be a relative reference starting with a
// single "/", without scheme, host, backslash or control characters
// (browsers drop tabs and newlines, turning "/\t/evil" into "//evil"), and
// its path, once dot segments are resolved, must stay below prefix.
func SafeNext(next, prefix string) string {
	root := prefix + "/"
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return root
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return root
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return root
	}
	clean := path.Clean(u.Path)
	if prefix != "" && clean != prefix && !strings.HasPrefix(clean, prefix+"/") {
		return root
	}
	return next
}

// requestPath is the external path and query of r: the prefix and the
// request target as the client sent it (r.RequestURI survives
// http.StripPrefix and routers that rewrite r.URL.Path).
func requestPath(r *http.Request) string {
	_, _, prefix := ExternalBase(r)
	target := r.RequestURI
	if target == "" || !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
		if u, err := url.Parse(r.RequestURI); err == nil && r.RequestURI != "" {
			target = u.RequestURI() // absolute-form request target
		}
	}
	return prefix + target
}
