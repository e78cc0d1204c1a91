// Package broker is kpi's plumbing around NATS JetStream: it starts the
// embedded server of the default setup, connects to an external cluster,
// declares the streams, and names the subjects events travel on.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream and subject names. Subjects are kpi.events.<tenant>.<type>, so that a
// deployment can route, limit or mirror one tenant's traffic on its own.
const (
	EventsStream     = "KPI_EVENTS"
	EventsSubjects   = "kpi.events.>"
	DeadLetterStream = "KPI_DLQ"
	DeadLetterPrefix = "kpi.dlq."
)

// Defaults for the streams.
const (
	// DefaultDuplicateWindow is how long JetStream remembers event ids to drop
	// a producer's resend. The server keeps every id of the window in memory.
	DefaultDuplicateWindow = 10 * time.Minute
	// DefaultSyncInterval is how often the file store fsyncs, NATS's default.
	DefaultSyncInterval = 2 * time.Minute
)

// EventSubject is the subject an event of the tenant and type is published on.
func EventSubject(tenant, typ string) string {
	return "kpi.events." + tenant + "." + typ
}

// EmbeddedConfig configures the in-process NATS server of the default setup.
type EmbeddedConfig struct {
	// StoreDir holds the JetStream file store.
	StoreDir string
	// Host and Port to listen on; Port 0 picks a free one. The host defaults
	// to loopback so the embedded broker is never exposed by accident.
	Host string
	Port int
	// SyncInterval overrides how often the file store fsyncs; SyncAlways
	// fsyncs every write (slower, survives power loss).
	SyncInterval time.Duration
	SyncAlways   bool
	Logger       *slog.Logger
}

// StartEmbedded runs a NATS server with JetStream on disk in this process
// and returns it once it accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("broker: embedded: store dir is required")
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "kpi-embedded", Host: host, Port: port,
		JetStream: true, StoreDir: cfg.StoreDir, NoSigs: true, NoLog: true,
		SyncInterval: cfg.SyncInterval, SyncAlways: cfg.SyncAlways,
		MaxPayload: 8 << 20,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker: embedded: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("broker: embedded server not ready after 30s")
	}
	if cfg.Logger != nil {
		cfg.Logger.Info("embedded nats started", "component", "broker",
			"url", ns.ClientURL(), "store_dir", cfg.StoreDir)
	}
	return ns, nil
}

// ClientConfig says how to reach NATS.
type ClientConfig struct {
	URL string
	// CredsFile is a NATS credentials file (JWT + nkey), optional.
	CredsFile string
	// CAFile, CertFile and KeyFile enable TLS, optional.
	CAFile, CertFile, KeyFile string
	Name                      string
	Logger                    *slog.Logger
}

// Connect dials NATS and returns the connection with a JetStream context.
// It keeps reconnecting forever: callers see ErrUnavailable-style errors
// while the server is down, not a dead client.
func Connect(cfg ClientConfig) (*nats.Conn, jetstream.JetStream, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", "component", "broker", "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "component", "broker", "url", c.ConnectedUrlRedacted())
		}),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("broker: connect %s: %w", redact(cfg.URL), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("broker: jetstream: %w", err)
	}
	return nc, js, nil
}

// redact drops credentials from a URL before it reaches an error or a log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<nats url>"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	return u.String()
}

// StreamConfig sizes the streams kpi declares.
type StreamConfig struct {
	DuplicateWindow time.Duration
	Replicas        int
}

// EnsureStreams creates or updates the events and dead-letter streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	dup := cfg.DuplicateWindow
	if dup == 0 {
		dup = DefaultDuplicateWindow
	}
	reps := max(cfg.Replicas, 1)
	streams := []jetstream.StreamConfig{{
		Name: EventsStream, Subjects: []string{EventsSubjects}, Storage: jetstream.FileStorage,
		Duplicates: dup, Replicas: reps, Retention: jetstream.LimitsPolicy,
		Description: "kpi events, the source of truth that projections replay",
	}, {
		Name: DeadLetterStream, Subjects: []string{DeadLetterPrefix + ">"},
		Storage: jetstream.FileStorage, Replicas: reps,
		Description: "kpi messages projections could not decode, with the reason",
	}}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("broker: ensure stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return strconv.Atoi(p)
}
