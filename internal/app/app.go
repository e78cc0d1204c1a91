// Package app wires kpi's roles into one process: ingest, projection and
// the query API, over either the embedded default (NATS and the ClickHouse
// engine in-process, data under one directory) or an external NATS cluster
// and ClickHouse server. cmd/kpi and the integration tests both start it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/kpi-analytics/kpi/ingest"
	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/metrics"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
	"github.com/kpi-analytics/kpi/projections"
	"github.com/kpi-analytics/kpi/queries"
	"github.com/kpi-analytics/kpi/web"
)

// Config is everything `kpi serve` can be told.
type Config struct {
	// DataDir holds the embedded NATS store and ClickHouse data.
	DataDir string
	// NATSURL selects an external NATS; empty runs NATS in-process.
	NATSURL string
	// NATSCreds, NATSCA, NATSCert, NATSKey secure an external NATS.
	NATSCreds, NATSCA, NATSCert, NATSKey string
	// NATSSyncInterval sets the embedded file store's fsync interval;
	// NATSSyncAlways fsyncs every write.
	NATSSyncInterval time.Duration
	NATSSyncAlways   bool
	// DuplicateWindow is how long resent event ids are dropped.
	DuplicateWindow time.Duration
	// ClickHouseDSN selects a ClickHouse server; empty runs it in-process.
	ClickHouseDSN string
	// Database is the ClickHouse database kpi owns.
	Database string
	// Warehouse, when set, is used instead of opening one (tests share one
	// embedded engine per process this way).
	Warehouse warehouse.Conn
	// Addr is the HTTP listen address.
	Addr string
	// Roles switch parts on: ingest, projector, query.
	Ingest, Project, Query bool
	// BatchSize caps the projector's batches at that many messages; zero
	// sizes them by bytes.
	BatchSize int
	// AckWait is how long JetStream waits before redelivering a batch that
	// a projector fetched and never acknowledged (it crashed, say).
	AckWait time.Duration
	// Auth requires an API key on every route but /healthz and /readyz
	// (package auth). Off, Validate allows only a loopback Addr.
	Auth bool
	// TLSCert and TLSKey, both or neither, serve the HTTP API over TLS.
	TLSCert, TLSKey string
	Logger          *slog.Logger
}

// Defaults used by `kpi serve`.
const (
	DefaultAddr     = "127.0.0.1:8080"
	DefaultDatabase = "kpi"
	DefaultDataDir  = "./data"
)

// Validate reports a Config that cannot work.
func (c *Config) Validate() error {
	if !warehouse.ValidIdent(c.Database) {
		return fmt.Errorf("config: database %q is not a valid identifier", c.Database)
	}
	if (c.NATSURL == "" || (c.ClickHouseDSN == "" && c.Warehouse == nil)) && c.DataDir == "" {
		return errors.New("config: data dir is required for the embedded NATS or ClickHouse")
	}
	if !c.Ingest && !c.Project && !c.Query {
		return errors.New("config: every role is off; enable ingest, projector or query")
	}
	return c.validateAccess()
}

// App is a running kpi process.
type App struct {
	cfg       Config
	log       *slog.Logger
	ns        *server.Server
	nc        *nats.Conn
	js        jetstream.JetStream
	wh        warehouse.Conn
	ownWH     bool
	Ingest    *ingest.Handler
	Projector *projections.Projector
	Queries   *queries.Engine
	metrics   *metrics.Registry
	listener  net.Listener
	srv       *http.Server
	// keys and guardian are nil when access control is off.
	keys         *auth.Store
	guardian     *auth.Guard
	tlsConf      *tls.Config
	adminKeyFile string
}

// New starts the dependencies (embedded or external) and prepares the roles;
// Run serves them.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log}
	// The warehouse opens first: the embedded engine locks the data
	// directory, so a second process on it (kpi replay while kpi serve
	// runs) stops there, before it starts a second NATS on the same store.
	if err := a.openWarehouse(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.openBroker(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.openAccess(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.prepareRoles(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) openBroker(ctx context.Context) error {
	url := a.cfg.NATSURL
	if url == "" {
		dir := filepath.Join(a.cfg.DataDir, "nats")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("nats store: %w", err)
		}
		ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: dir, Logger: a.log,
			SyncInterval: a.cfg.NATSSyncInterval, SyncAlways: a.cfg.NATSSyncAlways})
		if err != nil {
			return err
		}
		a.ns, url = ns, ns.ClientURL()
	}
	nc, js, err := broker.Connect(broker.ClientConfig{URL: url, Name: "kpi", Logger: a.log,
		CredsFile: a.cfg.NATSCreds, CAFile: a.cfg.NATSCA, CertFile: a.cfg.NATSCert,
		KeyFile: a.cfg.NATSKey})
	if err != nil {
		return err
	}
	a.nc, a.js = nc, js
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return broker.EnsureStreams(sctx, js, broker.StreamConfig{DuplicateWindow: a.cfg.DuplicateWindow})
}

func (a *App) openWarehouse(ctx context.Context) error {
	switch {
	case a.cfg.Warehouse != nil:
		a.wh = a.cfg.Warehouse
	case a.cfg.ClickHouseDSN != "":
		wh, err := openServer(ctx, a.cfg.ClickHouseDSN, a.log)
		if err != nil {
			return err
		}
		a.wh, a.ownWH = wh, true
	default:
		wh, err := chdb.Open(chdb.Config{Path: filepath.Join(a.cfg.DataDir, "clickhouse"),
			Logger: a.log})
		if err != nil {
			return err
		}
		a.wh, a.ownWH = wh, true
	}
	if err := projections.Migrate(ctx, a.wh, a.cfg.Database); err != nil {
		return err
	}
	return nil
}

func (a *App) prepareRoles() error {
	var err error
	if a.cfg.Ingest {
		a.Ingest, err = ingest.New(ingest.Config{JetStream: a.js, Logger: a.log})
		if err != nil {
			return err
		}
	}
	a.metrics = metrics.New()
	a.Projector, err = projections.New(projections.Config{JetStream: a.js, Warehouse: a.wh,
		Database: a.cfg.Database, BatchSize: a.cfg.BatchSize, AckWait: a.cfg.AckWait, Logger: a.log,
		OnBatch: a.metrics.ObserveBatch})
	if err != nil {
		return err
	}
	src := metrics.Sources{Ingest: a.Ingest}
	if a.cfg.Project {
		src.Projector = a.Projector
	}
	a.metrics.Watch(src)
	if a.cfg.Query {
		a.Queries = queries.NewEngine(a.wh, a.cfg.Database)
	}
	return nil
}

// Handler is the HTTP API of the enabled roles.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	if a.Ingest != nil {
		mux.Handle("/v1/events", a.guard(auth.RoleIngest, ingest.WithTenant, a.Ingest))
	}
	if a.Queries != nil {
		qh := queries.NewHandler(a.Queries, a.log)
		q := a.guard(auth.RoleRead, queries.WithTenant, qh)
		mux.Handle("/v1/kpis", q)
		mux.Handle("/v1/kpis/", q)
		mux.Handle("/v1/goals", q)
		// Goals are settings: changing them takes an admin key (of the
		// tenant, or of every tenant), reading them a read key.
		write := a.guard(auth.RoleAdmin, queries.WithTenant, qh)
		mux.Handle("PUT /v1/goals", write)
		mux.Handle("DELETE /v1/goals", write)
	}
	// The dashboard is static; it calls the API above with the user's key.
	for _, path := range []string{"GET /{$}", "GET /app.js", "GET /style.css"} {
		mux.Handle(path, web.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.ready)
	// Metrics cover every tenant, so a tenant-scoped key may not read them.
	mux.Handle("GET /metrics", a.guard(auth.RoleRead, nil, a.metrics.Handler()))
	a.mountAdmin(mux)
	return a.withHSTS(securityHeaders(mux))
}

func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var problems []string
	if a.nc == nil || !a.nc.IsConnected() {
		problems = append(problems, "nats: not connected")
	}
	if err := a.wh.Ping(ctx); err != nil {
		problems = append(problems, "clickhouse: "+err.Error())
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range problems {
			_, _ = w.Write([]byte(p + "\n"))
		}
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// Listen binds the HTTP address; Addr reports it (useful with port 0).
func (a *App) Listen() error {
	addr := a.cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	a.listener = l
	return nil
}

// Addr is the bound HTTP address, after Listen.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then shuts down in order: stop taking HTTP
// requests (in-flight ones finish), let the projector finish its batch,
// then close NATS and ClickHouse.
func (a *App) Run(ctx context.Context) error {
	if a.listener == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	a.srv = &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	a.log.Info("kpi serving", "addr", a.Addr(), "database", a.cfg.Database,
		"warehouse", a.wh.Backend(), "embedded_nats", a.ns != nil,
		"ingest", a.cfg.Ingest, "projector", a.cfg.Project, "query", a.cfg.Query)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(a.serve)
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return a.srv.Shutdown(sctx)
	})
	if a.cfg.Project {
		g.Go(func() error { return a.Projector.Run(gctx) })
	}
	err := g.Wait()
	a.Close()
	return err
}

// Close releases NATS and ClickHouse; Run calls it on its way out.
func (a *App) Close() {
	if a.keys != nil {
		a.keys.Close()
		a.keys = nil
	}
	if a.nc != nil {
		_ = a.nc.Drain()
		a.nc = nil
	}
	if a.ns != nil {
		a.ns.Shutdown()
		a.ns.WaitForShutdown()
		a.ns = nil
	}
	if a.wh != nil && a.ownWH {
		_ = a.wh.Close()
		a.wh = nil
	}
}

// Warehouse exposes the ClickHouse connection (for replay and tests).
func (a *App) Warehouse() warehouse.Conn { return a.wh }

// JetStream exposes the JetStream context (for replay and tests).
func (a *App) JetStream() jetstream.JetStream { return a.js }
