// Command kpi is the whole product in one binary: `kpi serve` runs ingest,
// projection and the query API; the other subcommands are clients and tools.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// stdout is where commands print their results; tests capture it.
var stdout io.Writer = os.Stdout

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

var commands = []command{
	{"serve", "run ingest, projections and the query API", runServe},
	{"import", "send an NDJSON file of events to the ingest API", runImport},
	{"query", "print a KPI as a table", runQuery},
	{"goals", "set and list KPI targets per tenant and period", runGoals},
	{"keys", "create, list and revoke API keys", runKeys},
	{"replay", "rebuild the projections from the event stream", runReplay},
	{"bench", "measure ingest and projection throughput against raw NATS and ClickHouse", runBench},
	{"version", "print versions", runVersion},
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name == os.Args[1] {
			if err := c.run(ctx, os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "kpi %s: %v\n", c.name, err)
				os.Exit(1)
			}
			return
		}
	}
	usage()
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kpi <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun kpi <command> -h for the flags of a command.")
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// env returns the environment variable or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
