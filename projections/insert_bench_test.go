package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/projections"
)

// BenchmarkInsertEvents measures writing event rows (RowBinary encoding
// included, hourly projection maintained) in batches of 100k.
func BenchmarkInsertEvents(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	const batch = 100000
	rows := make([][]any, batch)
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = projections.BenchRow(i, at)
	}
	b.ResetTimer()
	for range b.N {
		if err := f.wh.Insert(ctx, projections.EventsTable(f.db), projections.Columns(), rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}
