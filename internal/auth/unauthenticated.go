package auth

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// DefaultTokenHelp is the message API clients get with a 401 in GitLab and
// SharingHub modes.
const DefaultTokenHelp = "Authentication required: set MLFLOW_TRACKING_TOKEN to a GitLab access token " +
	"(personal, project or group access token with the read_api scope), or MLFLOW_TRACKING_USERNAME " +
	"and MLFLOW_TRACKING_PASSWORD with the token as password."

// IsAPIClient reports whether r comes from a program rather than a browser
// page load, and so should get a JSON 401 instead of the sign-in page: the
// mlflow Python client (User-Agent mlflow-python-client/...), a request that
// accepts JSON and not HTML, a JSON body, an XMLHttpRequest, or a path under
// /api/ or /ajax-api/ (also below /<project>/tracking/).
func IsAPIClient(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("User-Agent"), "mlflow-python-client/") {
		return true
	}
	p := r.URL.Path
	for _, root := range []string{"/api/", "/ajax-api/"} {
		if strings.HasPrefix(p, root) || strings.Contains(p, "/tracking"+root) {
			return true
		}
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return true
	}
	if isJSON(r.Header.Get("Content-Type")) {
		return true
	}
	json, html := false, false
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			json = json || isJSON(mt)
			html = html || mt == "text/html" || mt == "application/xhtml+xml"
		}
	}
	return json && !html
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// WriteUnauthenticated answers an API client: 401, WWW-Authenticate:
// Bearer realm="mlflow", and MLflow's error body
// {"error_code":"UNAUTHENTICATED","message":message}.
func WriteUnauthenticated(w http.ResponseWriter, message string) {
	body, _ := json.Marshal(struct {
		ErrorCode mlflow.ErrorCode `json:"error_code"`
		Message   string           `json:"message"`
	}{mlflow.Unauthenticated, message})
	h := w.Header()
	h.Set("WWW-Authenticate", `Bearer realm="mlflow"`)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(mlflow.HTTPStatus(mlflow.Unauthenticated))
	_, _ = w.Write(append(body, '\n'))
}

// Unauthenticated answers a request that needs credentials it does not
// have, or whose credentials could not be read (err from FromRequest; nil
// when there were none). API clients (IsAPIClient) get WriteUnauthenticated
// with a message saying how to pass a token; browsers get a redirect to the
// sign-in with next set to where they were going when AutoRedirect
// (LOGIN_AUTO_REDIRECT) is on and sign-in is available, else the sign-in page
// with status 401.
func (p *Pages) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	msg := p.tokenHelp()
	if err != nil {
		msg = err.Error() + ". " + msg
	}
	if IsAPIClient(r) {
		WriteUnauthenticated(w, msg)
		return
	}
	_, _, prefix := ExternalBase(r)
	if p.AutoRedirect && p.loginAvailable() {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, prefix+PathLogin+"?next="+url.QueryEscape(requestPath(r)), http.StatusFound)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="mlflow"`)
	message := "Sign in to see this page."
	if err != nil {
		message = err.Error() + "."
	}
	p.render(w, r, http.StatusUnauthorized, pageData{Message: message, Next: requestPath(r)})
}
