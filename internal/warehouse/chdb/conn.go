// Package chdb adapts the ClickHouse engine running in-process (libchdb) to
// warehouse.Conn: the embedded default of kpi. The library is loaded lazily
// through purego rather than cgo, so that binaries without libchdb still run
// against a ClickHouse server, and fail with an install hint only when the
// embedded engine is asked for.
//
// The engine keeps one data directory per process and runs one statement at
// a time, so every Conn of a process shares one engine connection and takes
// turns on it.
package chdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// Config says where the embedded engine keeps its data.
type Config struct {
	// Path is the data directory; it is created if missing.
	Path string
	// Settings are ClickHouse query-level settings applied to the session.
	Settings map[string]string
	// Logger receives one line per slow statement; nil discards.
	Logger *slog.Logger
	// SlowQuery is the duration above which a statement is logged.
	SlowQuery time.Duration
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("chdb: config: path is required")
	}
	return nil
}

// ErrOtherPath is returned by Open when the process already runs the engine
// on another data directory: libchdb supports one per process.
var ErrOtherPath = errors.New("chdb: engine already open on another path")

// ErrInUse is returned by Open when another process holds the data
// directory, typically a running kpi serve.
var ErrInUse = errors.New("chdb: data directory in use by another process")

// engine is the process-wide libchdb connection.
type engine struct {
	lib  *lib
	path string
	conn *ptr // chdb_connection*
	refs int
	turn *turnstile // one statement at a time, reads first
}

var (
	engMu sync.Mutex
	eng   *engine
)

// Conn is a handle on the shared engine. It implements warehouse.Conn.
type Conn struct {
	e      *engine
	log    *slog.Logger
	slow   time.Duration
	mu     sync.Mutex // guards closed
	closed bool
}

var _ warehouse.Conn = (*Conn)(nil)

// Open loads libchdb if needed and connects to the engine at cfg.Path. A
// second Open on the same path shares the engine; on another path it fails
// with ErrOtherPath. A missing library gives ErrLibraryMissing.
func Open(cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l, err := load()
	if err != nil {
		return nil, err
	}
	engMu.Lock()
	defer engMu.Unlock()
	if eng != nil && eng.path != cfg.Path {
		return nil, fmt.Errorf("%w: open %s, asked for %s", ErrOtherPath, eng.path, cfg.Path)
	}
	if eng == nil {
		e, err := connect(l, cfg)
		if err != nil {
			return nil, err
		}
		eng = e
	}
	eng.refs++
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	slow := cfg.SlowQuery
	if slow == 0 {
		slow = 2 * time.Second
	}
	return &Conn{e: eng, log: log.With("component", "chdb"), slow: slow}, nil
}

func connect(l *lib, cfg Config) (*engine, error) {
	if err := checkUnlocked(cfg.Path); err != nil {
		return nil, err
	}
	args := []string{"kpi", "--path=" + cfg.Path}
	for k, v := range sessionSettings {
		args = append(args, "--"+k+"="+v)
	}
	for k, v := range cfg.Settings {
		args = append(args, "--"+k+"="+v)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	argv := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		b := append([]byte(a), 0)
		pin.Pin(&b[0])
		argv[i] = unsafe.Pointer(&b[0])
	}
	c := l.connect(int32(len(argv)), &argv[0])
	if c == nil || *c == nil {
		return nil, fmt.Errorf("chdb: connect to %s failed", cfg.Path)
	}
	return &engine{lib: l, path: cfg.Path, conn: c, turn: newTurnstile()}, nil
}

// Version reports the loaded libchdb's ClickHouse version.
func Version() (string, error) {
	l, err := load()
	if err != nil {
		return "", err
	}
	return cString(l.version()), nil
}

// Backend implements warehouse.Conn.
func (c *Conn) Backend() string { return "chdb" }

// Close releases this handle; the engine closes with the last one.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	engMu.Lock()
	defer engMu.Unlock()
	c.e.refs--
	if c.e.refs == 0 {
		_ = c.e.turn.enter(context.Background(), false) // let the statement in flight end
		c.e.lib.closeConn(c.e.conn)
		if eng == c.e {
			eng = nil
		}
	}
	return nil
}

// acquire waits for the engine's turn, or for ctx. Reads go first.
func (c *Conn) acquire(ctx context.Context, read bool) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return warehouse.ErrClosed
	}
	return c.e.turn.enter(ctx, read)
}

func (c *Conn) release() { c.e.turn.leave() }

// Ping implements warehouse.Conn.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.Query(ctx, "SELECT 1", nil)
	return err
}

// Exec implements warehouse.Conn.
func (c *Conn) Exec(ctx context.Context, query string, params warehouse.Params) error {
	_, err := c.run(ctx, query, "Null", params, false)
	return err
}

// Query implements warehouse.Conn.
func (c *Conn) Query(ctx context.Context, query string, params warehouse.Params) (*warehouse.Result, error) {
	out, err := c.run(ctx, query, resultFormat, params, true)
	if err != nil {
		return nil, err
	}
	res, err := decodeResult(out)
	if err != nil {
		return nil, fmt.Errorf("chdb: decode result of %q: %w", warehouse.Clip(query), err)
	}
	return res, nil
}

// run executes one statement and returns its output in the given format.
func (c *Conn) run(ctx context.Context, query, format string, params warehouse.Params,
	read bool) ([]byte, error) {
	if err := c.acquire(ctx, read); err != nil {
		return nil, err
	}
	defer c.release()
	start := time.Now()
	out, err := c.call(query, format, params)
	if d := time.Since(start); d > c.slow {
		c.log.InfoContext(ctx, "slow statement", "duration_ms", d.Milliseconds(),
			"query", warehouse.Clip(query))
	}
	return out, err
}

func (c *Conn) call(query, format string, params warehouse.Params) ([]byte, error) {
	l := c.e.lib
	var pin runtime.Pinner
	defer pin.Unpin()
	q := append([]byte(query), 0)
	f := append([]byte(format), 0)
	n := len(params)
	names := make([]unsafe.Pointer, n+1)
	values := make([]unsafe.Pointer, n+1)
	nameLens := make([]uintptr, n+1)
	valueLens := make([]uintptr, n+1)
	i := 0
	for k, v := range params {
		v = warehouse.ParamText(v)
		kb, vb := append([]byte(k), 0), append([]byte(v), 0)
		pin.Pin(&kb[0])
		pin.Pin(&vb[0])
		names[i], nameLens[i] = unsafe.Pointer(&kb[0]), uintptr(len(k))
		values[i], valueLens[i] = unsafe.Pointer(&vb[0]), uintptr(len(v))
		i++
	}
	res := l.queryParams(*c.e.conn, &q[0], uintptr(len(query)), &f[0], uintptr(len(format)),
		&names[0], &nameLens[0], &values[0], &valueLens[0], uintptr(n))
	if res == nil {
		return nil, &warehouse.Error{Message: "no result from engine", Query: warehouse.Clip(query)}
	}
	defer l.destroyResult(res)
	if msg := cString(l.resultError(res)); msg != "" {
		return nil, &warehouse.Error{Code: warehouse.ParseCode(msg), Message: msg,
			Query: warehouse.Clip(query)}
	}
	return cBytes(l.resultBuffer(res), l.resultLength(res)), nil
}

// Insert implements warehouse.Conn: rows are encoded as RowBinary and
// streamed into one INSERT statement.
func (c *Conn) Insert(ctx context.Context, table string, cols []warehouse.Column, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	stmt, err := warehouse.InsertStatement(table, cols)
	if err != nil {
		return err
	}
	enc, err := warehouse.NewRowBinaryEncoder(cols)
	if err != nil {
		return fmt.Errorf("chdb insert into %s: %w", table, err)
	}
	for i, r := range rows {
		if err := enc.Append(r); err != nil {
			return fmt.Errorf("chdb insert into %s: row %d: %w", table, i, err)
		}
	}
	return c.InsertRowBinary(ctx, stmt, enc.Bytes())
}

// InsertRowBinary streams pre-encoded RowBinary data into stmt, an INSERT
// with an explicit column list and no FORMAT clause.
func (c *Conn) InsertRowBinary(ctx context.Context, stmt string, data []byte) error {
	if err := c.acquire(ctx, false); err != nil {
		return err
	}
	defer c.release()
	start := time.Now()
	err := c.stream(stmt, data)
	if d := time.Since(start); d > c.slow {
		c.log.InfoContext(ctx, "slow insert", "duration_ms", d.Milliseconds(),
			"bytes", len(data), "query", warehouse.Clip(stmt))
	}
	return err
}

func (c *Conn) stream(stmt string, data []byte) error {
	l := c.e.lib
	q := append([]byte(stmt), 0)
	f := []byte("RowBinary\x00")
	s := l.streamInsert(*c.e.conn, &q[0], uintptr(len(stmt)), &f[0], uintptr(len(f)-1))
	if s == nil {
		return &warehouse.Error{Message: "no insert stream from engine", Query: warehouse.Clip(stmt)}
	}
	defer l.destroyStream(s)
	if msg := cString(l.streamError(s)); msg != "" {
		return &warehouse.Error{Code: warehouse.ParseCode(msg), Message: msg, Query: warehouse.Clip(stmt)}
	}
	const chunk = 4 << 20
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if l.streamAppend(s, &data[off], uintptr(end-off)) != 0 {
			msg := cString(l.streamError(s))
			return &warehouse.Error{Code: warehouse.ParseCode(msg), Message: "append: " + msg,
				Query: warehouse.Clip(stmt)}
		}
	}
	res := l.streamDone(s)
	if res == nil {
		return &warehouse.Error{Message: "insert stream did not finish", Query: warehouse.Clip(stmt)}
	}
	defer l.destroyResult(res)
	if msg := cString(l.resultError(res)); msg != "" {
		return &warehouse.Error{Code: warehouse.ParseCode(msg), Message: msg, Query: warehouse.Clip(stmt)}
	}
	return nil
}

// checkUnlocked fails with ErrInUse when another process holds the lock the
// engine takes on the data directory's status file, so the caller gets a
// clear error instead of the engine's own exception printed to stderr.
func checkUnlocked(path string) error {
	f, err := os.Open(filepath.Join(path, "status"))
	if err != nil {
		return nil // no status file yet: nobody has opened the directory
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s (stop the kpi serve using it first)", ErrInUse, path)
		}
		return nil
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
