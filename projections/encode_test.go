package projections

import (
	"bytes"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// TestAppendRowMatchesGenericEncoder keeps the hand-written row encoder in
// step with the column list: both must produce the same bytes.
func TestAppendRowMatchesGenericEncoder(t *testing.T) {
	e := events.Event{ID: "0195f5c3-2b1e-7a1e-9f00-00000000002a", Type: events.TypeSubscriptionStarted,
		Tenant: "acme", OccurredAt: time.Date(2024, 3, 31, 0, 30, 0, 123e6, time.UTC),
		ReceivedAt: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), Source: "s", Campaign: "c",
		Ad: "a", Channel: "ch", Count: 3, Value: 1_500_000, Amount: 2_000_000, Currency: "EUR",
		Customer: "cu", Subscription: "su", Plan: "p", Interval: "year", Invoice: "i"}
	got, err := appendRow(nil, &e, 77, 5)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := warehouse.NewRowBinaryEncoder(eventColumns)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Append(Row(e, 77, 5)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, enc.Bytes()) {
		t.Errorf("appendRow = %x\nwant        %x", got, enc.Bytes())
	}
}

func BenchmarkAppendRow(b *testing.B) {
	e := events.Event{ID: "0195f5c3-2b1e-7a1e-9f00-00000000002a", Type: events.TypeClick,
		Tenant: "acme", OccurredAt: time.Now(), ReceivedAt: time.Now(), Campaign: "spring",
		Ad: "ad-1", Channel: "search", Count: 1}
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	for range b.N {
		buf, _ = appendRow(buf[:0], &e, 1, 0)
	}
}
