// Package config holds the server configuration: defaults, flags and the
// environment names operators know from `mlflow server`.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	}
}

// option binds one setting to a flag and an environment variable.
type option struct {
	flag, env, usage string
	str              *string
	num              *int
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
		if v == "" {
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
		if o.num != nil {
			fs.IntVar(o.num, o.flag, *o.num, usage)
		} else {
			fs.StringVar(o.str, o.flag, *o.str, usage)
		}
	}
	fs.Usage = func() {
		fmt.Fprint(usageOut, "Usage: mlflow-sharinghub server [options]\n\n"+
			"Runs the MLflow tracking server. Every option can also be set with the\n"+
			"environment variable shown; a flag wins over the environment.\n\nOptions:\n")
		def := Default()
		for _, o := range def.options() {
			val := ""
			if o.num != nil {
				val = strconv.Itoa(*o.num)
			} else {
				val = *o.str
			}
			fmt.Fprintf(usageOut, "  --%s\n      %s\n      env %s, default %q\n", o.flag, o.usage, o.env, val)
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
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}
