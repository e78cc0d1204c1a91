// Package chserver adapts a ClickHouse server or cluster, reached with
// clickhouse-go/v2 over the native protocol, to warehouse.Conn. It runs the
// same SQL as the embedded chdb adapter and returns the same Go values.
//
// Params travel as server-side query parameters ({name:Type}), never spliced
// into the statement; servers older than native-protocol parameters
// (protocol revision 54459) get ErrParamsUnsupported instead. kpi's schema
// itself (DateTime64, LowCardinality, parameterised queries) needs ClickHouse
// 24.x or newer; older servers down to 18.16 are only good enough for this
// package's own tests of connecting, inserting, reading and error codes.
package chserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// DefaultSlowQuery is the duration above which a statement is logged when
// Config.SlowQuery is zero.
const DefaultSlowQuery = 2 * time.Second

// Config says which server to use.
type Config struct {
	// DSN addresses the server over the native protocol, for example
	// clickhouse://user:pass@127.0.0.1:9000/default?dial_timeout=5s; add
	// secure=true for TLS. See clickhouse.ParseDSN for every option.
	DSN string
	// Logger receives the connection and slow statements; nil discards.
	Logger *slog.Logger
	// SlowQuery is the duration above which a statement is logged.
	SlowQuery time.Duration
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.DSN == "" {
		return errors.New("chserver: config: dsn is required")
	}
	if c.SlowQuery < 0 {
		return errors.New("chserver: config: slow query threshold is negative")
	}
	return nil
}

// Conn is a pool of native connections to one server. It implements
// warehouse.Conn and is safe for concurrent use.
type Conn struct {
	db       driver.Conn
	log      *slog.Logger
	slow     time.Duration
	params   bool                // the server takes {name:Type} parameters
	settings clickhouse.Settings // sent with every statement; read-only
	closed   atomic.Bool
}

var _ warehouse.Conn = (*Conn)(nil)

// Open connects to the server of cfg.DSN and pings it. It fails on a bad
// Config or DSN, a DSN for the HTTP protocol, or a server that does not
// answer within the DSN's dial timeout or ctx.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts, err := clickhouse.ParseDSN(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("chserver: parse dsn: %w", err)
	}
	if opts.Protocol != clickhouse.Native {
		return nil, fmt.Errorf("chserver: dsn must use the native protocol, not %s", opts.Protocol)
	}
	db, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("chserver: open: %w", err)
	}
	c, err := connect(ctx, db, cfg)
	if err != nil {
		_ = db.Close() // the connect error says more
		return nil, err
	}
	c.log.InfoContext(ctx, "connected", "addr", strings.Join(opts.Addr, ","),
		"database", opts.Auth.Database, "user", opts.Auth.Username, "tls", opts.TLS != nil)
	return c, nil
}

// connect checks that the server answers and learns what it supports.
func connect(ctx context.Context, db driver.Conn, cfg Config) (*Conn, error) {
	if err := db.Ping(ctx); err != nil {
		return nil, wrapErr("ping", "", err)
	}
	v, err := db.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("chserver: server version: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		db:       db,
		log:      log.With("component", "chserver"),
		slow:     cfg.SlowQuery,
		params:   v.Revision >= proto.DBMS_MIN_PROTOCOL_VERSION_WITH_PARAMETERS,
		settings: sessionSettings(v.Version),
	}
	if c.slow == 0 {
		c.slow = DefaultSlowQuery
	}
	c.log = c.log.With("server_version", v.Version.String())
	c.log.DebugContext(ctx, "server capabilities", "server_revision", v.Revision,
		"query_params", c.params, "server_timezone", v.Timezone.String())
	return c, nil
}

// sessionSettings pins the session to UTC where the server allows it (the
// session_timezone setting arrived in 23.6), so that DateTime parameters and
// functions mean the same as in the embedded engine. Older servers must run
// with <timezone>UTC</timezone> for that.
func sessionSettings(v proto.Version) clickhouse.Settings {
	if v.Major > 23 || (v.Major == 23 && v.Minor >= 6) {
		return clickhouse.Settings{"session_timezone": "UTC"}
	}
	return nil
}

// Backend implements warehouse.Conn.
func (c *Conn) Backend() string { return "clickhouse" }

// Ping implements warehouse.Conn. It returns warehouse.ErrClosed after Close.
func (c *Conn) Ping(ctx context.Context) error {
	if c.closed.Load() {
		return fmt.Errorf("chserver ping: %w", warehouse.ErrClosed)
	}
	if err := c.db.Ping(ctx); err != nil {
		return wrapErr("ping", "", err)
	}
	return nil
}

// Close implements warehouse.Conn: it closes the pool, and returns
// warehouse.ErrClosed if called again.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("chserver close: %w", warehouse.ErrClosed)
	}
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("chserver close: %w", err)
	}
	return nil
}

// Exec implements warehouse.Conn. A server exception comes back as a
// *warehouse.Error; Params on a server without them give
// ErrParamsUnsupported; after Close it returns warehouse.ErrClosed.
func (c *Conn) Exec(ctx context.Context, query string, params warehouse.Params) error {
	ctx, err := c.begin(ctx, "exec", params)
	if err != nil {
		return err
	}
	defer c.logSlow(ctx, "exec", query, time.Now())
	if err := c.db.Exec(ctx, query); err != nil {
		return wrapErr("exec", query, err)
	}
	return nil
}

// Query implements warehouse.Conn, with the errors of Exec. The whole
// answer is read into memory and normalised as warehouse.Result describes.
func (c *Conn) Query(
	ctx context.Context, query string, params warehouse.Params,
) (*warehouse.Result, error) {
	ctx, err := c.begin(ctx, "query", params)
	if err != nil {
		return nil, err
	}
	defer c.logSlow(ctx, "query", query, time.Now())
	rows, err := c.db.Query(ctx, query)
	if err != nil {
		return nil, wrapErr("query", query, err)
	}
	res, err := readAll(rows)
	if err != nil {
		return nil, wrapErr("query", query, err)
	}
	return res, nil
}

// begin refuses work after Close or Params the server cannot take, and
// attaches the parameters and session settings to ctx for the driver.
func (c *Conn) begin(
	ctx context.Context, op string, params warehouse.Params,
) (context.Context, error) {
	if c.closed.Load() {
		return nil, fmt.Errorf("chserver %s: %w", op, warehouse.ErrClosed)
	}
	if len(params) > 0 && !c.params {
		return nil, fmt.Errorf("chserver %s: %w", op, ErrParamsUnsupported)
	}
	var opts []clickhouse.QueryOption
	if len(params) > 0 {
		wire := make(clickhouse.Parameters, len(params))
		for k, v := range params {
			wire[k] = warehouse.ParamText(v)
		}
		opts = append(opts, clickhouse.WithParameters(wire))
	}
	if c.settings != nil {
		opts = append(opts, clickhouse.WithSettings(c.settings))
	}
	if len(opts) == 0 {
		return ctx, nil
	}
	return clickhouse.Context(ctx, opts...), nil
}

func (c *Conn) logSlow(ctx context.Context, op, query string, start time.Time) {
	if d := time.Since(start); d > c.slow {
		c.log.InfoContext(ctx, "slow statement", "op", op, "duration_ms", d.Milliseconds(),
			"query", warehouse.Clip(query))
	}
}

// readAll reads and closes rows, scanning each column into a value of the
// driver's own scan type and normalising it.
func readAll(rows driver.Rows) (*warehouse.Result, error) {
	defer rows.Close()
	types := rows.ColumnTypes()
	res := &warehouse.Result{Columns: make([]warehouse.Column, len(types))}
	dest := make([]any, len(types))
	for i, ct := range types {
		res.Columns[i] = warehouse.Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan row %d: %w", len(res.Rows), err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			col := res.Columns[i]
			v, err := normalize(col.Type, reflect.ValueOf(d).Elem().Interface())
			if err != nil {
				return nil, fmt.Errorf("row %d column %s: %w", len(res.Rows), col.Name, err)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// Insert implements warehouse.Conn. Values are converted per column type as
// converterFor describes; a value of the wrong Go type or out of range fails
// the whole insert before any row is sent, naming the row and column.
// table is "db.table" or "table" and, like the column names, must be a plain
// identifier. Server errors are *warehouse.Error, as for Exec.
func (c *Conn) Insert(
	ctx context.Context, table string, cols []warehouse.Column, rows [][]any,
) error {
	ctx, err := c.begin(ctx, "insert", nil)
	if err != nil {
		return err
	}
	stmt, err := insertStatement(table, cols)
	if err != nil {
		return fmt.Errorf("chserver insert: %w", err)
	}
	conv, err := converters(cols)
	if err != nil {
		return fmt.Errorf("chserver insert into %s: %w", table, err)
	}
	if len(rows) == 0 {
		return nil
	}
	defer c.logSlow(ctx, "insert", stmt, time.Now())
	batch, err := c.db.PrepareBatch(ctx, stmt)
	if err != nil {
		return wrapErr("insert", stmt, err)
	}
	if err := appendRows(batch, cols, conv, rows); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("chserver insert into %s: %w", table, err)
	}
	if err := batch.Send(); err != nil {
		return wrapErr("insert", stmt, err)
	}
	return nil
}

func appendRows(b driver.Batch, cols []warehouse.Column, conv []converter, rows [][]any) error {
	vals := make([]any, len(cols)) // the batch copies values on Append
	for r, row := range rows {
		if len(row) != len(cols) {
			return fmt.Errorf("row %d has %d values for %d columns", r, len(row), len(cols))
		}
		for i, v := range row {
			cv, err := conv[i](v)
			if err != nil {
				return fmt.Errorf("row %d column %s: %w", r, cols[i].Name, err)
			}
			vals[i] = cv
		}
		if err := b.Append(vals...); err != nil {
			return fmt.Errorf("row %d: %w", r, err)
		}
	}
	return nil
}
