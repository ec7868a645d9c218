package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// SharingHubLogin sends browsers to SharingHub to sign in (SharingHub
// mode): SharingHub's session cookie is then what FromRequest reads.
type SharingHubLogin struct {
	// URL is SHARINGHUB_URL.
	URL string
}

// Login answers GET /auth/login?next=<path> with a redirect to
// <SHARINGHUB_URL>/api/auth/login?redirect_uri=<external URL of next>.
func (s SharingHubLogin) Login(w http.ResponseWriter, r *http.Request) {
	scheme, host, prefix := ExternalBase(r)
	next := SafeNext(r.URL.Query().Get("next"), prefix)
	target := strings.TrimSuffix(s.URL, "/") + "/api/auth/login?redirect_uri=" +
		url.QueryEscape(scheme+"://"+host+next)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// Logout answers GET /auth/logout with a redirect to SharingHub's logout,
// which ends the SharingHub session.
func (s SharingHubLogin) Logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, strings.TrimSuffix(s.URL, "/")+"/api/auth/logout", http.StatusFound)
}
