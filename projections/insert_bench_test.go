package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/projections"
)

// BenchmarkInsertEvents measures writing event rows (RowBinary encoding
// included, hourly projection maintained) in batches of 100k.
func BenchmarkInsertEvents(b *testing.B) {
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, 100000)
	for i := range rows {
		rows[i] = projections.BenchRow(i, at)
	}
	benchInsert(b, rows)
}

// BenchmarkInsertCatalogueEvents is BenchmarkInsertEvents for events the
// catalogue_30m aggregate holds: page views of 5,000 visitors and
// subscription changes of 20,000 subscriptions, over about 17 minutes.
func BenchmarkInsertCatalogueEvents(b *testing.B) {
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, 100000)
	for i := range rows {
		e := events.Event{ID: fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i),
			Type: events.TypePageView, Tenant: fmt.Sprintf("bench-%d", i%10),
			OccurredAt: at.Add(time.Duration(i) * 10 * time.Millisecond), ReceivedAt: at,
			Visitor: fmt.Sprintf("v%d", i%5000), URL: "/pricing", UTMSource: "google"}
		if i%4 == 0 {
			e.Type, e.Visitor, e.URL, e.UTMSource = events.TypeSubscriptionChanged, "", "", ""
			e.Subscription, e.Customer = fmt.Sprintf("s%d", i%20000), fmt.Sprintf("c%d", i%20000)
			e.Amount, e.Currency, e.Interval = 49_000_000, "USD", "month"
		}
		rows[i] = projections.Row(e, uint64(i+1), 0)
	}
	benchInsert(b, rows)
}

func benchInsert(b *testing.B, rows [][]any) {
	f := newFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		err := f.wh.Insert(ctx, projections.EventsTable(f.db), projections.Columns(), rows)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}
