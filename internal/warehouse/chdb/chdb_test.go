package chdb

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

var (
	shared     *Conn
	sharedOnce sync.Once
	sharedErr  error
)

// openShared returns the engine for this test binary: libchdb allows one
// data directory per process, so tests share it and isolate by database.
func openShared(t *testing.T) *Conn {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kpi-chdb-test-")
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = Open(Config{Path: filepath.Join(dir, "data")})
	})
	if errors.Is(sharedErr, ErrLibraryMissing) {
		t.Skipf("embedded ClickHouse unavailable: %v", sharedErr)
	}
	if sharedErr != nil {
		t.Fatalf("open chdb: %v", sharedErr)
	}
	return shared
}

func TestQueryNormalisesTypes(t *testing.T) {
	c := openShared(t)
	res, err := c.Query(context.Background(), `SELECT
		toInt64(-5) AS i, toUInt64(7) AS u, toFloat64(1.5) AS f, nan AS n,
		toDecimal64(12.50, 2) AS d, 'x' AS s, toUUID('0195f5c3-2b1e-7a1e-9f00-000000000001') AS id,
		toDateTime64('2024-03-31 00:30:00.123', 3, 'UTC') AS t, CAST(NULL, 'Nullable(String)') AS nl,
		[1, 2] AS arr, {p:String} AS p`, warehouse.Params{"p": "it's"})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(-5), int64(7), 1.5, nil, "12.5", "x",
		"0195f5c3-2b1e-7a1e-9f00-000000000001",
		time.Date(2024, 3, 31, 0, 30, 0, 123e6, time.UTC), nil, []any{int64(1), int64(2)}, "it's"}
	if len(res.Rows) != 1 {
		t.Fatalf("rows = %d, want 1", len(res.Rows))
	}
	got := res.Rows[0]
	for i := range want {
		if i == 3 {
			if f, ok := got[i].(float64); !ok || !math.IsNaN(f) {
				t.Errorf("col %s = %v, want NaN", res.Columns[i].Name, got[i])
			}
			continue
		}
		if !equal(got[i], want[i]) {
			t.Errorf("col %s = %#v, want %#v", res.Columns[i].Name, got[i], want[i])
		}
	}
}

// TestParamsAreText checks that a String parameter is the caller's bytes:
// the engine parses parameters as escaped text, where a backslash starts an
// escape and a tab ends the value.
func TestParamsAreText(t *testing.T) {
	c := openShared(t)
	for _, v := range []string{`a\tb`, `x\`, "tab\there", "line\nbreak\r", `\\'\N`, "nul\x00"} {
		res, err := c.Query(context.Background(),
			"SELECT {v:String} AS v, length({v:String}) AS n", warehouse.Params{"v": v})
		if err != nil {
			t.Errorf("param %q: %v", v, err)
			continue
		}
		if got := res.Rows[0]; got[0] != v || got[1] != int64(len(v)) {
			t.Errorf("param %q came back as %q (length %v)", v, got[0], got[1])
		}
	}
}

func equal(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestInsertRoundTrip(t *testing.T) {
	c := openShared(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS t_insert",
		`CREATE TABLE t_insert.x (id UUID, n UInt32, v Int64, s LowCardinality(String),
			at DateTime64(3, 'UTC'), m Decimal(18, 6), o Nullable(String))
			ENGINE = MergeTree ORDER BY id`,
	} {
		if err := c.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	cols := []warehouse.Column{{Name: "id", Type: "UUID"}, {Name: "n", Type: "UInt32"}, {Name: "v", Type: "Int64"},
		{Name: "s", Type: "LowCardinality(String)"}, {Name: "at", Type: "DateTime64(3, 'UTC')"},
		{Name: "m", Type: "Decimal(18, 6)"}, {Name: "o", Type: "Nullable(String)"}}
	at := time.Date(2023, 8, 17, 12, 0, 0, 5e6, time.UTC)
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{"0195f5c3-2b1e-7a1e-9f00-" + pad(i), int64(i), int64(-i),
			"camp", at, int64(1_500_000), nil}
	}
	if err := c.Insert(ctx, "t_insert.x", cols, rows); err != nil {
		t.Fatal(err)
	}
	res, err := c.Query(ctx, `SELECT count(), sum(n), sum(m), min(at), any(s),
		countIf(o IS NULL), min(id) FROM t_insert.x`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Rows[0]
	want := []any{int64(1000), int64(499500), "1500", at, "camp", int64(1000),
		"0195f5c3-2b1e-7a1e-9f00-000000000000"}
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Errorf("col %d = %#v, want %#v", i, got[i], want[i])
		}
	}
}

func pad(i int) string {
	const digits = "000000000000"
	s := []byte(digits)
	for p := len(s) - 1; i > 0; p-- {
		s[p] = byte('0' + i%10)
		i /= 10
	}
	return string(s)
}

func TestErrorsCarryCode(t *testing.T) {
	c := openShared(t)
	err := c.Exec(context.Background(), "SELECT * FROM nodb.nosuch", nil)
	var we *warehouse.Error
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want *warehouse.Error", err)
	}
	if we.Code != warehouse.CodeUnknownDatabase && we.Code != warehouse.CodeUnknownTable {
		t.Errorf("code = %d, want %d or %d", we.Code, warehouse.CodeUnknownDatabase,
			warehouse.CodeUnknownTable)
	}
	err = c.Exec(context.Background(), "SELEC 1", nil)
	if !warehouse.IsCode(err, warehouse.CodeSyntaxError) {
		t.Errorf("err = %v, want syntax error code 62", err)
	}
}

func TestSecondPathRefused(t *testing.T) {
	openShared(t)
	_, err := Open(Config{Path: t.TempDir()})
	if !errors.Is(err, ErrOtherPath) {
		t.Errorf("err = %v, want ErrOtherPath", err)
	}
}

// TestDirectoryInUse: a data directory whose status file another engine
// has locked is refused with ErrInUse before the engine is asked.
func TestDirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	if err := checkUnlocked(dir); err != nil {
		t.Fatalf("fresh directory: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, "status"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := checkUnlocked(dir); err != nil {
		t.Fatalf("unlocked status file: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if err := checkUnlocked(dir); !errors.Is(err, ErrInUse) {
		t.Errorf("locked status file: %v, want ErrInUse", err)
	}
}
