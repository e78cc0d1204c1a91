// Package chdbtest gives tests the real ClickHouse engine. libchdb allows one
// data directory per process, so a test binary shares one engine and each
// test takes a database of its own in it.
package chdbtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
)

var (
	once   sync.Once
	engine *chdb.Conn
	err    error
)

// Shared returns the engine of this test binary, opening it on first use.
// Without libchdb the test is skipped with the command that installs it.
func Shared(t testing.TB) *chdb.Conn {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "kpi-chdb-test-")
		if e != nil {
			err = e
			return
		}
		engine, err = chdb.Open(chdb.Config{Path: filepath.Join(dir, "clickhouse")})
	})
	if errors.Is(err, chdb.ErrLibraryMissing) {
		t.Skipf("embedded ClickHouse missing (run `%s`): %v", chdb.InstallHint, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

// Database names a database after the test, unique per run.
func Database(t testing.TB) string {
	r := strings.NewReplacer("/", "_", "-", "_", " ", "_", "#", "_")
	name := strings.ToLower(r.Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("t_%s_%d", name, time.Now().UnixNano()%1e9)
}

// Close stops the engine if it was opened. Call it from TestMain after
// m.Run: the engine's threads must stop before the process exits (the race
// detector's exit crashed without).
func Close() {
	if engine != nil {
		_ = engine.Close()
	}
}
