package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/projections"
)

// serverFlags are shared by serve, replay and bench: where the data lives.
type serverFlags struct {
	cfg      app.Config
	logLevel string
}

func (s *serverFlags) register(fs *flag.FlagSet) {
	c := &s.cfg
	fs.StringVar(&c.DataDir, "data-dir", env("KPI_DATA_DIR", app.DefaultDataDir),
		"directory for the embedded NATS store and ClickHouse data ($KPI_DATA_DIR)")
	fs.StringVar(&c.NATSURL, "nats-url", env("KPI_NATS_URL", ""),
		"external NATS URL; empty runs NATS in-process ($KPI_NATS_URL)")
	fs.StringVar(&c.NATSCreds, "nats-creds", env("KPI_NATS_CREDS", ""), "NATS credentials file")
	fs.StringVar(&c.NATSCA, "nats-ca", env("KPI_NATS_CA", ""), "CA file for NATS TLS")
	fs.StringVar(&c.NATSCert, "nats-cert", env("KPI_NATS_CERT", ""), "client certificate for NATS TLS")
	fs.StringVar(&c.NATSKey, "nats-key", env("KPI_NATS_KEY", ""), "client key for NATS TLS")
	fs.DurationVar(&c.NATSSyncInterval, "nats-sync-interval", broker.DefaultSyncInterval,
		"embedded JetStream fsync interval")
	fs.BoolVar(&c.NATSSyncAlways, "nats-sync-always", false,
		"embedded JetStream fsyncs every write (slower; survives power loss)")
	fs.DurationVar(&c.DuplicateWindow, "dedup-window", broker.DefaultDuplicateWindow,
		"how long JetStream drops a resent event id")
	fs.StringVar(&c.ClickHouseDSN, "clickhouse-dsn", env("KPI_CLICKHOUSE_DSN", ""),
		"ClickHouse server DSN (clickhouse://user:pass@host:9000/db); empty runs ClickHouse "+
			"in-process ($KPI_CLICKHOUSE_DSN)")
	fs.StringVar(&c.Database, "database", env("KPI_DATABASE", app.DefaultDatabase),
		"ClickHouse database kpi owns")
	fs.IntVar(&c.BatchSize, "batch-size", 0,
		"cap projector batches at this many messages (default: about 6 MiB of messages)")
	fs.DurationVar(&c.AckWait, "ack-wait", projections.DefaultAckWait,
		"how long an unacknowledged batch waits before JetStream redelivers it")
	fs.StringVar(&s.logLevel, "log-level", env("KPI_LOG_LEVEL", "info"), "debug, info, warn or error")
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var sf serverFlags
	sf.register(fs)
	fs.StringVar(&sf.cfg.Addr, "addr", env("KPI_ADDR", app.DefaultAddr), "HTTP listen address")
	fs.BoolVar(&sf.cfg.Ingest, "ingest", true, "serve POST /v1/events")
	fs.BoolVar(&sf.cfg.Project, "projector", true, "project the event stream into ClickHouse")
	fs.BoolVar(&sf.cfg.Query, "query", true, "serve the KPI query API")
	noAuth := fs.Bool("no-auth", false, "serve without API keys (loopback addresses only)")
	fs.StringVar(&sf.cfg.TLSCert, "tls-cert", env("KPI_TLS_CERT", ""),
		"certificate (PEM) to serve HTTPS ($KPI_TLS_CERT)")
	fs.StringVar(&sf.cfg.TLSKey, "tls-key", env("KPI_TLS_KEY", ""),
		"private key (PEM) of --tls-cert ($KPI_TLS_KEY)")
	_ = fs.Parse(args)
	sf.cfg.Auth = !*noAuth
	sf.cfg.Logger = newLogger(sf.logLevel)
	start := time.Now()
	a, err := app.New(ctx, sf.cfg)
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return err
	}
	sf.cfg.Logger.Info("kpi ready", "addr", a.URL(), "data_dir", sf.cfg.DataDir,
		"startup_ms", time.Since(start).Milliseconds())
	if p := a.AdminKeyFile(); p != "" {
		fmt.Fprintf(os.Stderr, "kpi: created an admin API key in %s (mode 0600); "+
			"kpi keys and kpi query read it from there\n", p)
	}
	return a.Run(ctx)
}
