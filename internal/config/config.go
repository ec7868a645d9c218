// Package config holds the server configuration: defaults, flags and the
// environment names operators know from `mlflow server`.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Config is the whole server configuration.
type Config struct {
	Host                 string
	Port                 int
	BackendStoreURI      string
	DefaultArtifactRoot  string
	ArtifactsDestination string
	LogFormat            string // "text" or "json"
	ShutdownTimeoutSecs  int

	// Where roles come from: exactly one of GitLabURL, SharingHubURL,
	// ProjectsFile or Dev.
	GitLabURL               string
	GitLabOAuthClientID     string
	GitLabOAuthClientSecret string // secret: env or *_FILE only
	GitLabMandatoryTopics   string // comma-separated
	SharingHubURL           string
	SharingHubSessionCookie string
	SharingHubDefaultToken  bool
	SharingHubStacCategory  string
	SharingHubAuthCacheSecs int
	ProjectsFile            string
	Dev                     bool

	ProjectTag          string
	ProjectCacheSecs    int
	ProjectCacheEntries int
	LoginAutoRedirect   bool
	SecretKey           string // secret: env or *_FILE only
	SessionLifetimeSecs int
}

// Default returns the embedded defaults (those of `mlflow server`).
func Default() Config {
	return Config{
		Host:                 "127.0.0.1",
		Port:                 5000,
		BackendStoreURI:      "sqlite:///mlflow.db",
		DefaultArtifactRoot:  "mlflow-artifacts:/",
		ArtifactsDestination: "./mlartifacts",
		LogFormat:            "text",
		ShutdownTimeoutSecs:  30,

		SharingHubSessionCookie: "sharinghub-session",
		SharingHubStacCategory:  "ai-model",
		SharingHubAuthCacheSecs: 60,
		ProjectTag:              "project",
		ProjectCacheSecs:        30,
		ProjectCacheEntries:     10000,
		SessionLifetimeSecs:     31 * 24 * 3600,
	}
}

// option binds one setting to a flag and an environment variable.
type option struct {
	flag, env, usage string
	str              *string
	num              *int
	boolean          *bool
	// secret options are read from env or from the file named by
	// <env>_FILE (or the --<flag> option, which names a file); never
	// from a flag value.
	secret bool
}

func (c *Config) options() []option {
	return []option{
		{flag: "host", env: "MLFLOW_HOST", usage: "address to listen on", str: &c.Host},
		{flag: "port", env: "MLFLOW_PORT", usage: "port to listen on", num: &c.Port},
		{flag: "backend-store-uri", env: "MLFLOW_BACKEND_STORE_URI",
			usage: "database: sqlite:///<file> or postgresql://user:pass@host:port/db", str: &c.BackendStoreURI},
		{flag: "default-artifact-root", env: "MLFLOW_DEFAULT_ARTIFACT_ROOT",
			usage: "artifact root given to new experiments", str: &c.DefaultArtifactRoot},
		{flag: "artifacts-destination", env: "MLFLOW_ARTIFACTS_DESTINATION",
			usage: "where proxied artifacts are stored: a folder or s3://bucket/prefix", str: &c.ArtifactsDestination},
		{flag: "log-format", env: "MLFLOW_SHARINGHUB_LOG_FORMAT", usage: "log format: text or json", str: &c.LogFormat},
		{flag: "shutdown-timeout", env: "MLFLOW_SHARINGHUB_SHUTDOWN_TIMEOUT",
			usage: "seconds in-flight requests get to finish on SIGINT/SIGTERM", num: &c.ShutdownTimeoutSecs},

		{flag: "dev", env: "MLFLOW_SHARINGHUB_DEV",
			usage: "demo mode: one project demo/project (id 1) and an Owner token printed at start-up", boolean: &c.Dev},
		{flag: "projects-file", env: "MLFLOW_SHARINGHUB_PROJECTS_FILE",
			usage: "static roles: a JSON file of projects, users, tokens and memberships", str: &c.ProjectsFile},
		{flag: "gitlab-url", env: "GITLAB_URL", usage: "GitLab mode: roles from this GitLab's REST API v4", str: &c.GitLabURL},
		{flag: "gitlab-oauth-client-id", env: "GITLAB_OAUTH_CLIENT_ID",
			usage: "GitLab OAuth application id for browser sign-in (OpenID Connect)", str: &c.GitLabOAuthClientID},
		{flag: "gitlab-oauth-client-secret-file", env: "GITLAB_OAUTH_CLIENT_SECRET",
			usage: "GitLab OAuth application secret", str: &c.GitLabOAuthClientSecret, secret: true},
		{flag: "gitlab-mandatory-topics", env: "GITLAB_MANDATORY_TOPICS",
			usage: "comma-separated topics a project must carry to be served", str: &c.GitLabMandatoryTopics},
		{flag: "sharinghub-url", env: "SHARINGHUB_URL", usage: "SharingHub mode: roles from this SharingHub server", str: &c.SharingHubURL},
		{flag: "sharinghub-session-cookie", env: "SHARINGHUB_SESSION_COOKIE",
			usage: "name of SharingHub's session cookie", str: &c.SharingHubSessionCookie},
		{flag: "sharinghub-auth-default-token", env: "SHARINGHUB_AUTH_DEFAULT_TOKEN",
			usage: "let requests without credentials use SharingHub's default token", boolean: &c.SharingHubDefaultToken},
		{flag: "sharinghub-stac-collection", env: "SHARINGHUB_STAC_COLLECTION",
			usage: "SharingHub category a project must be in (empty: no check)", str: &c.SharingHubStacCategory},
		{flag: "sharinghub-auth-cache-timeout", env: "SHARINGHUB_AUTH_CACHE_TIMEOUT",
			usage: "seconds a SharingHub sign-in check is cached", num: &c.SharingHubAuthCacheSecs},
		{flag: "project-tag", env: "PROJECT_TAG", usage: "experiment and model tag that records the owning project", str: &c.ProjectTag},
		{flag: "project-cache-timeout", env: "PROJECT_CACHE_TIMEOUT",
			usage: "seconds a (credential, project) role lookup is cached", num: &c.ProjectCacheSecs},
		{flag: "project-cache-size", env: "MLFLOW_SHARINGHUB_PROJECT_CACHE_SIZE",
			usage: "most role lookups kept in memory", num: &c.ProjectCacheEntries},
		{flag: "login-auto-redirect", env: "LOGIN_AUTO_REDIRECT",
			usage: "send browsers without a session straight to sign-in", boolean: &c.LoginAutoRedirect},
		{flag: "secret-key-file", env: "SECRET_KEY",
			usage: "key that encrypts session cookies (same on every replica)", str: &c.SecretKey, secret: true},
		{flag: "permanent-session-lifetime", env: "PERMANENT_SESSION_LIFETIME",
			usage: "seconds a browser session lasts", num: &c.SessionLifetimeSecs},
	}
}

// ErrHelp is returned by Load when -h/--help was asked for; usage was printed.
var ErrHelp = flag.ErrHelp

// Load reads defaults, then the environment, then flags (flags win).
func Load(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	c := Default()
	var problems []string
	for _, o := range c.options() {
		v := getenv(o.env)
		if o.secret && v == "" {
			if f := getenv(o.env + "_FILE"); f != "" {
				b, err := os.ReadFile(f)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s_FILE: %v", o.env, err))
					continue
				}
				v = strings.TrimSpace(string(b))
			}
		}
		if v == "" {
			continue
		}
		if o.boolean != nil {
			b, err := parseBool(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q: %v", o.env, v, err))
				continue
			}
			*o.boolean = b
			continue
		}
		if o.num != nil {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q is not a number", o.env, v))
				continue
			}
			*o.num = n
		} else {
			*o.str = v
		}
	}
	fs := flag.NewFlagSet("mlflow-sharinghub server", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	for _, o := range c.options() {
		usage := o.usage + " (env " + o.env + ")"
		switch {
		case o.secret:
			target := o.str
			fs.Func(o.flag, usage, func(path string) error {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				*target = strings.TrimSpace(string(b))
				return nil
			})
		case o.boolean != nil:
			fs.BoolVar(o.boolean, o.flag, *o.boolean, usage)
		case o.num != nil:
			fs.IntVar(o.num, o.flag, *o.num, usage)
		default:
			fs.StringVar(o.str, o.flag, *o.str, usage)
		}
	}
	fs.Usage = func() {
		fmt.Fprint(usageOut, "Usage: mlflow-sharinghub server [options]\n\n"+
			"Runs the MLflow tracking server. Every option can also be set with the\n"+
			"environment variable shown; a flag wins over the environment.\n\nOptions:\n")
		def := Default()
		for _, o := range def.options() {
			switch {
			case o.secret:
				fmt.Fprintf(usageOut, "  --%s FILE\n      %s, read from FILE\n      env %s or %s_FILE\n", o.flag, o.usage, o.env, o.env)
			case o.boolean != nil:
				fmt.Fprintf(usageOut, "  --%s\n      %s\n      env %s=true|false, default %v\n", o.flag, o.usage, o.env, *o.boolean)
			case o.num != nil:
				fmt.Fprintf(usageOut, "  --%s N\n      %s\n      env %s, default %d\n", o.flag, o.usage, o.env, *o.num)
			default:
				fmt.Fprintf(usageOut, "  --%s VALUE\n      %s\n      env %s, default %q\n", o.flag, o.usage, o.env, *o.str)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if err := c.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var p []string
	if c.Port < 0 || c.Port > 65535 {
		p = append(p, fmt.Sprintf("port %d is out of range", c.Port))
	}
	if c.BackendStoreURI == "" {
		p = append(p, "backend store URI is empty")
	}
	if c.DefaultArtifactRoot == "" {
		p = append(p, "default artifact root is empty")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p = append(p, fmt.Sprintf("log format %q is not text or json", c.LogFormat))
	}
	if c.ShutdownTimeoutSecs < 0 {
		p = append(p, "shutdown timeout is negative")
	}
	providers := []string{}
	if c.GitLabURL != "" {
		providers = append(providers, "GITLAB_URL")
	}
	if c.SharingHubURL != "" {
		providers = append(providers, "SHARINGHUB_URL")
	}
	if c.ProjectsFile != "" {
		providers = append(providers, "--projects-file")
	}
	if c.Dev {
		providers = append(providers, "--dev")
	}
	switch len(providers) {
	case 0:
		p = append(p, "no role provider is configured: set GITLAB_URL (roles from GitLab), SHARINGHUB_URL "+
			"(roles from SharingHub) or --projects-file (a static file), or run with --dev for a local demo project")
	case 1:
	default:
		p = append(p, "choose exactly one role provider, not "+strings.Join(providers, " and "))
	}
	if (c.GitLabOAuthClientID == "") != (c.GitLabOAuthClientSecret == "") {
		p = append(p, "GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_CLIENT_SECRET go together")
	}
	if c.GitLabOAuthClientID != "" && c.GitLabURL == "" {
		p = append(p, "GITLAB_OAUTH_CLIENT_ID needs GITLAB_URL")
	}
	if c.GitLabOAuthClientID != "" && c.SecretKey == "" {
		p = append(p, "browser sign-in (GITLAB_OAUTH_CLIENT_ID) needs SECRET_KEY, the same on every replica, to encrypt sessions")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 16 {
		p = append(p, "SECRET_KEY must be at least 16 characters")
	}
	if c.ProjectTag == "" {
		p = append(p, "PROJECT_TAG is empty")
	}
	if c.ProjectCacheSecs < 0 || c.SharingHubAuthCacheSecs < 0 || c.SessionLifetimeSecs <= 0 || c.ProjectCacheEntries <= 0 {
		p = append(p, "cache timeouts must not be negative; session lifetime and cache size must be positive")
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}

// parseBool reads the booleans operators write in environments.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, errors.New("not a boolean (true or false)")
}

// MandatoryTopics returns GITLAB_MANDATORY_TOPICS as a list.
func (c Config) MandatoryTopics() []string {
	var out []string
	for _, t := range strings.Split(c.GitLabMandatoryTopics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
