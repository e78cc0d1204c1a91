package chserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// dsnEnv names the server the integration tests run against.
const dsnEnv = "KPI_TEST_CLICKHOUSE_DSN"

// openTest connects to the test server and creates a database for this
// test alone. The database is dropped when the test passes and kept for a
// look when it fails.
func openTest(t *testing.T) (*Conn, string) {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip("set " + dsnEnv + " (start a server with .ci/clickhouse-server.sh start DIR)")
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := Open(ctx, Config{DSN: dsn, Logger: log})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	db := testDatabase(t)
	if err := c.Exec(ctx, "CREATE DATABASE "+db, nil); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer c.Close()
		if t.Failed() {
			t.Logf("kept database %s for inspection", db)
			return
		}
		err := c.Exec(ctx, "DROP DATABASE "+db, nil)
		if err != nil && !errors.Is(err, warehouse.ErrClosed) {
			t.Errorf("drop database %s: %v", db, err)
		}
	})
	return c, db
}

// testDatabase derives a database name from the test's name and a random
// suffix, so reruns and parallel packages never collide.
func testDatabase(t *testing.T) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, t.Name())
	suffix := make([]byte, 4)
	rand.Read(suffix)
	return "kpi_test_" + name + "_" + hex.EncodeToString(suffix)
}

func TestPing(t *testing.T) {
	c, _ := openTest(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if got, want := c.Backend(), "clickhouse"; got != want {
		t.Errorf("Backend() = %q, want %q", got, want)
	}
}

var testColumns = []warehouse.Column{
	{Name: "id", Type: "Int64"},
	{Name: "small", Type: "UInt8"},
	{Name: "big", Type: "UInt64"},
	{Name: "ratio", Type: "Float64"},
	{Name: "name", Type: "String"},
	{Name: "at", Type: "DateTime"},
	{Name: "amount", Type: "Decimal(18, 6)"},
	{Name: "note", Type: "Nullable(String)"},
	{Name: "uid", Type: "UUID"},
}

// createTestTable lists the columns in another order than testColumns, so
// that inserts prove the explicit column list is honoured.
func createTestTable(t *testing.T, c *Conn, db string) string {
	t.Helper()
	table := db + ".t"
	err := c.Exec(context.Background(), `CREATE TABLE `+table+` (
		uid UUID, note Nullable(String), amount Decimal(18, 6), at DateTime, name String,
		ratio Float64, big UInt64, small UInt8, id Int64
	) ENGINE = MergeTree() ORDER BY id`, nil)
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	return table
}

var testBase = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// testRow is row i as the caller passes it. Amounts alternate between the
// two forms Insert takes: decimal text and integer micro-units.
func testRow(i int) []any {
	var amount any = fmt.Sprintf("%d.25", i)
	if i%2 == 1 {
		amount = int64(i)*1_000_000 + 250_000
	}
	var note any
	if i%3 != 0 {
		note = fmt.Sprintf("n%d", i)
	}
	return []any{int64(i), i % 256, uint64(1<<62 + i), float64(i) / 4, fmt.Sprintf("row-%05d", i),
		testBase.Add(time.Duration(i) * time.Second), amount, note, testUUID(i)}
}

func testUUID(i int) string { return fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i) }

func TestInsertAndQuery(t *testing.T) {
	c, db := openTest(t)
	table := createTestTable(t, c, db)
	ctx := context.Background()
	const n = 10_000
	rows := make([][]any, n)
	var smallSum int64
	for i := range rows {
		rows[i] = testRow(i)
		smallSum += int64(i % 256)
	}
	if err := c.Insert(ctx, table, testColumns, rows); err != nil {
		t.Fatalf("Insert: %v", err)
	}

	res, err := c.Query(ctx, `SELECT count(), sum(id), sum(small), max(big), sum(ratio),
		sum(amount), countIf(isNull(note)), min(at), max(at), uniqExact(uid) FROM `+table, nil)
	if err != nil {
		t.Fatalf("Query aggregates: %v", err)
	}
	want := []any{int64(n), int64(n * (n - 1) / 2), smallSum, int64(1<<62 + n - 1),
		float64(n*(n-1)/2) / 4, "49997500", int64(3334), testBase,
		testBase.Add((n - 1) * time.Second), int64(n)}
	checkRows(t, res, [][]any{want})

	res, err = c.Query(ctx, `SELECT id, small, big, ratio, name, at, amount, note, uid
		FROM `+table+` WHERE id IN (0, 1, 9999) ORDER BY id`, nil)
	if err != nil {
		t.Fatalf("Query rows: %v", err)
	}
	checkRows(t, res, [][]any{
		{int64(0), int64(0), int64(1 << 62), 0.0, "row-00000", testBase, "0.25", nil, testUUID(0)},
		{int64(1), int64(1), int64(1<<62 + 1), 0.25, "row-00001", testBase.Add(time.Second),
			"1.25", "n1", testUUID(1)},
		{int64(9999), int64(9999 % 256), int64(1<<62 + 9999), 2499.75, "row-09999",
			testBase.Add(9999 * time.Second), "9999.25", nil, testUUID(9999)},
	})
	for i, col := range res.Columns {
		if col.Name != testColumns[i].Name || col.Type != testColumns[i].Type {
			t.Errorf("column %d = %+v, want %+v", i, col, testColumns[i])
		}
	}
}

func checkRows(t *testing.T, res *warehouse.Result, want [][]any) {
	t.Helper()
	if len(res.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(res.Rows), len(want))
	}
	for r := range want {
		for i := range want[r] {
			if got := res.Rows[r][i]; !sameValue(got, want[r][i]) {
				t.Errorf("row %d column %s = %#v (%T), want %#v (%T)", r, res.Columns[i].Name,
					got, got, want[r][i], want[r][i])
			}
		}
	}
}

func TestInsertBadValueSendsNothing(t *testing.T) {
	c, db := openTest(t)
	table := createTestTable(t, c, db)
	ctx := context.Background()
	bad := testRow(1)
	bad[1] = 256 // small is UInt8
	err := c.Insert(ctx, table, testColumns, [][]any{testRow(0), bad})
	if err == nil || !strings.Contains(err.Error(), "row 1 column small") {
		t.Fatalf("Insert = %v, want error naming row 1 column small", err)
	}
	res, err := c.Query(ctx, "SELECT count() FROM "+table, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, res, [][]any{{int64(0)}})
}

func TestServerErrors(t *testing.T) {
	c, db := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() error
		code int32
	}{
		{"unknown table", func() error {
			_, err := c.Query(ctx, "SELECT * FROM "+db+".nosuch", nil)
			return err
		}, warehouse.CodeUnknownTable},
		{"exec unknown table", func() error {
			return c.Exec(ctx, "INSERT INTO "+db+".nosuch SELECT 1", nil)
		}, warehouse.CodeUnknownTable},
		{"insert unknown table", func() error {
			return c.Insert(ctx, db+".nosuch", testColumns, [][]any{testRow(0)})
		}, warehouse.CodeUnknownTable},
		{"unknown database", func() error {
			_, err := c.Query(ctx, "SELECT * FROM kpi_no_such_db.t", nil)
			return err
		}, warehouse.CodeUnknownDatabase},
		{"syntax error", func() error {
			return c.Exec(ctx, "SELEC 1", nil)
		}, warehouse.CodeSyntaxError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var we *warehouse.Error
			if !errors.As(err, &we) {
				t.Fatalf("err = %v, want *warehouse.Error", err)
			}
			if we.Code != tt.code || !warehouse.IsCode(err, tt.code) {
				t.Errorf("code = %d, want %d (%v)", we.Code, tt.code, err)
			}
			if we.Message == "" || we.Query == "" {
				t.Errorf("warehouse.Error = %+v, want message and query", we)
			}
			var ex *clickhouse.Exception
			if !errors.As(err, &ex) || ex.Code != tt.code {
				t.Errorf("errors.As(*clickhouse.Exception) = %v, want code %d", ex, tt.code)
			}
		})
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping after errors: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	c, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Query with cancelled context = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Query(ctx, "SELECT sleep(3)", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Query cancelled while running = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled Query returned after %s, want well before the 3s sleep", d)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping after cancel: %v", err)
	}
}

func TestParams(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	q := "SELECT {s:String} AS s, {n:Int64} + 1 AS n"
	params := warehouse.Params{"s": "x'); DROP DATABASE default; --\\t\tend", "n": "41"}
	res, err := c.Query(ctx, q, params)
	if !c.params {
		// Servers before native-protocol parameters (18.16, the Debian
		// package) cannot run kpi's queries at all: they need modern
		// ClickHouse (24.x or newer). Check only that the refusal is clear.
		if !errors.Is(err, ErrParamsUnsupported) {
			t.Fatalf("Query with params on an old server = %v, want ErrParamsUnsupported", err)
		}
		t.Skip("server predates query parameters; modern ClickHouse is required for the rest")
	}
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	checkRows(t, res, [][]any{{params["s"], int64(42)}})
}

func TestClose(t *testing.T) {
	c, db := openTest(t)
	ctx := context.Background()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, qerr := c.Query(ctx, "SELECT 1", nil)
	for name, err := range map[string]error{
		"Exec":   c.Exec(ctx, "SELECT 1", nil),
		"Query":  qerr,
		"Insert": c.Insert(ctx, db+".t", testColumns, [][]any{testRow(0)}),
		"Ping":   c.Ping(ctx),
		"Close":  c.Close(),
	} {
		if !errors.Is(err, warehouse.ErrClosed) {
			t.Errorf("%s after Close = %v, want warehouse.ErrClosed", name, err)
		}
	}
	// The database outlives the closed connection; drop it with a fresh one.
	c2, err := Open(ctx, Config{DSN: os.Getenv(dsnEnv)})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Exec(ctx, "DROP DATABASE "+db, nil); err != nil {
		t.Error(err)
	}
}

func TestConcurrentQueries(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	const workers = 8
	const countQuery = "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 1000)"
	errs := make(chan error, workers)
	for g := range workers {
		go func() {
			for range 10 {
				res, err := c.Query(ctx, countQuery, nil)
				if err == nil && (len(res.Rows) != 1 || res.Rows[0][0] != int64(1000)) {
					err = fmt.Errorf("got %v, want [[1000]]", res.Rows)
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: %w", g, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
