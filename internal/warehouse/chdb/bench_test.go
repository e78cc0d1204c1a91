package chdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// BenchmarkInsertRowBinary measures the engine's insert of event-shaped rows
// (encoding included) in batches of 100k, the anchor kpi bench compares with.
func BenchmarkInsertRowBinary(b *testing.B) {
	c := openSharedB(b)
	ctx := context.Background()
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS bench_ins",
		`CREATE TABLE IF NOT EXISTS bench_ins.t (id UUID, tenant LowCardinality(String),
			type LowCardinality(String), at DateTime64(3, 'UTC'), campaign String, n UInt64,
			amount Decimal(18, 6), seq UInt64) ENGINE = MergeTree ORDER BY (tenant, type, at)`} {
		if err := c.Exec(ctx, q, nil); err != nil {
			b.Fatal(err)
		}
	}
	cols := []warehouse.Column{{Name: "id", Type: "UUID"}, {Name: "tenant", Type: "LowCardinality(String)"},
		{Name: "type", Type: "LowCardinality(String)"}, {Name: "at", Type: "DateTime64(3, 'UTC')"},
		{Name: "campaign", Type: "String"}, {Name: "n", Type: "UInt64"},
		{Name: "amount", Type: "Decimal(18, 6)"}, {Name: "seq", Type: "UInt64"}}
	const batch = 100000
	rows := make([][]any, batch)
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i), "acme", "click",
			t0.Add(time.Duration(i) * time.Second), "campaign", int64(1), int64(0), uint64(i)}
	}
	b.ResetTimer()
	for range b.N {
		if err := c.Insert(ctx, "bench_ins.t", cols, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}

func openSharedB(b *testing.B) *Conn {
	sharedOnce.Do(func() {
		shared, sharedErr = Open(Config{Path: b.TempDir()})
	})
	if sharedErr != nil {
		b.Skip(sharedErr)
	}
	return shared
}
