package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MinSecretKeyLen is the shortest SECRET_KEY accepted, in bytes.
const MinSecretKeyLen = 16

// ValidateSecretKey reports whether key can key the session cookies.
func ValidateSecretKey(key []byte) error {
	if len(key) == 0 {
		return errors.New("SECRET_KEY is empty")
	}
	if len(key) < MinSecretKeyLen {
		return fmt.Errorf("SECRET_KEY is %d bytes long; it must be at least %d (use a random string, "+
			"for example the output of `openssl rand -hex 32`)", len(key), MinSecretKeyLen)
	}
	return nil
}

// Settings are the sign-in settings checked at start-up, named after their
// environment variables.
type Settings struct {
	GitLabURL         string        // GITLAB_URL
	OAuthClientID     string        // GITLAB_OAUTH_CLIENT_ID
	OAuthClientSecret string        // GITLAB_OAUTH_CLIENT_SECRET
	SharingHubURL     string        // SHARINGHUB_URL
	SecretKey         string        // SECRET_KEY
	SessionLifetime   time.Duration // PERMANENT_SESSION_LIFETIME
}

// OIDCEnabled reports whether the settings ask for GitLab browser sign-in.
func (s Settings) OIDCEnabled() bool {
	return s.OAuthClientID != "" || s.OAuthClientSecret != ""
}

// Validate reports every problem with s at once: the server must refuse to
// start on any of them. In particular GitLab sign-in without SECRET_KEY is
// refused, not run with a random key: sessions would then die at every
// restart and differ between replicas.
func (s Settings) Validate() error {
	var p []string
	if s.OIDCEnabled() {
		if s.OAuthClientID == "" || s.OAuthClientSecret == "" {
			p = append(p, "GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_CLIENT_SECRET must be set together")
		}
		if s.GitLabURL == "" {
			p = append(p, "GITLAB_OAUTH_CLIENT_ID/SECRET are set but GITLAB_URL is not: browser sign-in needs the GitLab to sign in with")
		}
		if s.SharingHubURL != "" {
			p = append(p, "GITLAB_OAUTH_CLIENT_ID/SECRET are set together with SHARINGHUB_URL: in SharingHub mode browsers sign in with SharingHub; unset one")
		}
		if s.SecretKey == "" {
			p = append(p, "GitLab sign-in (GITLAB_OAUTH_CLIENT_ID/SECRET) needs SECRET_KEY: the session cookie "+
				"is encrypted with it so that every replica accepts it; set SECRET_KEY to a random string of "+
				"at least 16 characters, the same on every replica (for example `openssl rand -hex 32`)")
		}
	}
	if s.SecretKey != "" {
		if err := ValidateSecretKey([]byte(s.SecretKey)); err != nil {
			p = append(p, err.Error())
		}
	}
	if s.SessionLifetime < 0 {
		p = append(p, fmt.Sprintf("PERMANENT_SESSION_LIFETIME %s is negative", s.SessionLifetime))
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}

// ParseSessionLifetime reads PERMANENT_SESSION_LIFETIME, a number of seconds
// as in Flask; "" means DefaultSessionLifetime.
func ParseSessionLifetime(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultSessionLifetime, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > int64((10*366*24*time.Hour)/time.Second) {
		return 0, fmt.Errorf("PERMANENT_SESSION_LIFETIME=%q is not a number of seconds between 1 and 10 years", v)
	}
	return time.Duration(n) * time.Second, nil
}

// ParseBool reads a boolean setting such as LOGIN_AUTO_REDIRECT the way the
// Python plugin did (true/false, 1/0, yes/no, on/off; any case); "" is false.
func ParseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off", "n", "f":
		return false, nil
	case "1", "true", "yes", "on", "y", "t":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q is not a boolean (true or false)", name, v)
}
