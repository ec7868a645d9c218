// Command mlflow-sharinghub is an MLflow tracking server partitioned per
// GitLab project.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/access"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/config"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/server"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, config.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mlflow-sharinghub:", err)
			os.Exit(1)
		}
	}
}

const usage = `mlflow-sharinghub — an MLflow tracking server partitioned per GitLab project.

Usage:
  mlflow-sharinghub server [options]   run the tracking server (--help for options)
  mlflow-sharinghub gc [options]       permanently delete deleted runs, experiments, logged models
  mlflow-sharinghub version            print the version and the MLflow version served
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program; tests call it with their own arguments,
// environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "server":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "gc":
		return gc(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "mlflow-sharinghub %s (MLflow %s API, schema %s)\n", version, store.MLflowVersion, store.SchemaHead)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stdout)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler)

	st, err := store.Open(ctx, cfg.BackendStoreURI, store.Options{DefaultArtifactRoot: cfg.DefaultArtifactRoot})
	if err != nil {
		return fmt.Errorf("backend store %s: %w", store.Redact(cfg.BackendStoreURI), err)
	}
	defer st.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	arts, err := artifacts.Open(ctx, cfg.ArtifactsDestination, getenv)
	if err != nil {
		ln.Close()
		return fmt.Errorf("artifacts destination %s: %w", cfg.ArtifactsDestination, err)
	}
	h, err := buildHandler(ctx, cfg, st, arts, log, stdout, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "backend", store.Redact(cfg.BackendStoreURI),
		"schema", store.SchemaHead, "mlflow", store.MLflowVersion)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: waiting for in-flight requests", "timeout_s", cfg.ShutdownTimeoutSecs)
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeoutSecs)*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// buildHandler connects the role provider (GitLab, SharingHub, a static
// file or the --dev demo), its cache, sign-in and the server.
func buildHandler(ctx context.Context, cfg config.Config, st *store.Store, arts artifacts.Store, log *slog.Logger, stdout io.Writer, addr string) (http.Handler, error) {
	client := &http.Client{Timeout: 15 * time.Second}
	authOpts := auth.Options{}
	pages := &auth.Pages{Options: authOpts, AutoRedirect: cfg.LoginAutoRedirect, Logger: log}
	var provider access.Provider
	switch {
	case cfg.Dev:
		dev, token := access.Dev()
		provider = dev
		pages.TokenHelp = "Authentication required: set MLFLOW_TRACKING_TOKEN to the token printed at start-up."
		fmt.Fprintf(stdout, "\nDemo mode: one project, demo/project (id 1), and an Owner token.\n\n"+
			"  export MLFLOW_TRACKING_URI=http://%s/demo/project/tracking/\n"+
			"  export MLFLOW_TRACKING_TOKEN=%s\n\n", addr, token)
	case cfg.ProjectsFile != "":
		sp, err := access.LoadStatic(cfg.ProjectsFile)
		if err != nil {
			return nil, err
		}
		provider = sp
		pages.TokenHelp = "Authentication required: set MLFLOW_TRACKING_TOKEN to your token from the projects file."
	case cfg.GitLabURL != "":
		gl, err := access.NewGitLab(cfg.GitLabURL, client, access.GitLabOptions{MandatoryTopics: cfg.MandatoryTopics()})
		if err != nil {
			return nil, err
		}
		provider = gl
	case cfg.SharingHubURL != "":
		opts := access.DefaultSharingHubOptions()
		opts.SessionCookieName = cfg.SharingHubSessionCookie
		opts.DefaultToken = cfg.SharingHubDefaultToken
		opts.StacCollection = cfg.SharingHubStacCategory
		sh, err := access.NewSharingHub(cfg.SharingHubURL, client, opts)
		if err != nil {
			return nil, err
		}
		provider = sh
		authOpts = auth.Options{SharingHub: true, SharingHubCookie: cfg.SharingHubSessionCookie}
		pages.Options = authOpts
		pages.SharingHub = &auth.SharingHubLogin{URL: cfg.SharingHubURL}
	}
	cache := access.NewCache(provider, time.Duration(cfg.ProjectCacheSecs)*time.Second, cfg.ProjectCacheEntries)
	pages.WhoAmI = func(ctx context.Context, c auth.Credential) (auth.Identity, error) {
		who, err := cache.Authenticate(ctx, server.AccessCredential(c))
		return auth.Identity{Username: who.Username, Name: who.Name}, err
	}

	var sessions *auth.Sessions
	if cfg.SecretKey != "" {
		var err error
		sessions, err = auth.NewSessions([]byte(cfg.SecretKey), time.Duration(cfg.SessionLifetimeSecs)*time.Second, "")
		if err != nil {
			return nil, err
		}
		pages.Sessions = sessions
	}
	var oidc *auth.OIDC
	if cfg.GitLabOAuthClientID != "" {
		var err error
		oidc, err = auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: cfg.GitLabURL, ClientID: cfg.GitLabOAuthClientID,
			ClientSecret: cfg.GitLabOAuthClientSecret, Sessions: sessions, HTTPClient: client, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("GitLab sign-in: %w", err)
		}
		pages.OIDC = oidc
	}
	var h http.Handler = server.New(st, log, server.Options{
		Provider: cache, Sessions: sessions, AuthOptions: authOpts, Pages: pages, ProjectTag: cfg.ProjectTag,
		GlobalFromData: cfg.SharingHubURL != "", AnonymousFallback: cfg.SharingHubDefaultToken,
		Artifacts: arts,
	})
	if oidc != nil {
		h = oidc.RefreshSession(h)
	}
	return h, nil
}
