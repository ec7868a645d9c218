package server

import (
	"html/template"
	"net/http"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
)

// homePage is the page at a tracking URI until the MLflow web UI is served
// there: it names the scope and shows how to point the client at it.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>MLflow SharingHub</title></head>
<body style="font-family: sans-serif; max-width: 48em; margin: 2em auto">
<h1>{{if .Project}}{{.Project}}{{else}}MLflow SharingHub: all your projects{{end}}</h1>
{{if .Project}}<p>This is the MLflow tracking URI of project <b>{{.Project}}</b>.</p>
<pre>export MLFLOW_TRACKING_URI={{.URI}}
export MLFLOW_TRACKING_TOKEN=&lt;your access token&gt;</pre>
{{else}}<p>This global view is read-only. Each project has its own tracking URI:
<code>{{.URI}}&lt;project path&gt;/tracking/</code></p>{{end}}
<p><a href="{{.Auth}}">Who am I?</a></p>
</body></html>
`))

// home is GET / of a scope (the project's tracking URI, or the global view).
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	sc := scopeOf(r)
	data := struct{ Project, URI, Auth string }{URI: auth.ExternalURL(r, "/"), Auth: auth.ExternalURL(r, "/auth/")}
	if sc.IsProject() {
		data.Project = sc.ProjectPath
		data.URI = auth.ExternalURL(r, "/"+sc.ProjectPath+"/tracking/")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return homePage.Execute(w, data)
}
