package auth

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsValidate(t *testing.T) {
	key := "0123456789abcdef"
	tests := []struct {
		name string
		s    Settings
		want []string // substrings of the error; none means valid
	}{
		{"nothing set", Settings{}, nil},
		{"gitlab without oauth", Settings{GitLabURL: "https://gitlab.example"}, nil},
		{"gitlab oauth with key", Settings{GitLabURL: "https://g", OAuthClientID: "id", OAuthClientSecret: "s", SecretKey: key}, nil},
		{"sharinghub", Settings{SharingHubURL: "https://hub"}, nil},
		{"oauth without secret key", Settings{GitLabURL: "https://g", OAuthClientID: "id", OAuthClientSecret: "s"},
			[]string{"needs SECRET_KEY", "every replica"}},
		{"secret key too short", Settings{SecretKey: "short"}, []string{"SECRET_KEY is 5 bytes long; it must be at least 16"}},
		{"15 bytes", Settings{SecretKey: strings.Repeat("k", 15)}, []string{"at least 16"}},
		{"16 bytes is enough", Settings{SecretKey: strings.Repeat("k", 16)}, nil},
		{"id without secret", Settings{GitLabURL: "https://g", OAuthClientID: "id", SecretKey: key}, []string{"must be set together"}},
		{"oauth without gitlab url", Settings{OAuthClientID: "id", OAuthClientSecret: "s", SecretKey: key}, []string{"GITLAB_URL is not"}},
		{"oauth in sharinghub mode", Settings{SharingHubURL: "https://hub", GitLabURL: "https://g", OAuthClientID: "id",
			OAuthClientSecret: "s", SecretKey: key}, []string{"SHARINGHUB_URL"}},
		{"negative lifetime", Settings{SessionLifetime: -time.Second}, []string{"PERMANENT_SESSION_LIFETIME"}},
		{"every problem at once", Settings{OAuthClientID: "id", SecretKey: "x", SessionLifetime: -1},
			[]string{"together", "GITLAB_URL", "at least 16", "negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseSessionLifetime(t *testing.T) {
	for in, want := range map[string]time.Duration{"": DefaultSessionLifetime, "3600": time.Hour, " 60 ": time.Minute} {
		if got, err := ParseSessionLifetime(in); err != nil || got != want {
			t.Errorf("ParseSessionLifetime(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-1", "1h", "1e3", "999999999999"} {
		if _, err := ParseSessionLifetime(in); err == nil {
			t.Errorf("ParseSessionLifetime(%q) accepted", in)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"": false, "false": false, "0": false, "True": true, "1": true, "yes": true, "ON": true} {
		if got, err := ParseBool("LOGIN_AUTO_REDIRECT", in); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseBool("LOGIN_AUTO_REDIRECT", "maybe"); err == nil || !strings.Contains(err.Error(), "LOGIN_AUTO_REDIRECT") {
		t.Errorf("err = %v", err)
	}
}
