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
	srv := &http.Server{
		Handler:           server.New(st, log),
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
