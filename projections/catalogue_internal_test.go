package projections

import (
	"bytes"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// TestAppendCatalogueMatchesGenericEncoder sets every catalogue field, so
// that each of the columns migration 2 added is checked byte for byte.
func TestAppendCatalogueMatchesGenericEncoder(t *testing.T) {
	e := events.Event{ID: "0195f5c3-2b1e-7a1e-9f00-00000000002b", Type: events.TypeTimeLogged,
		Tenant: "acme", OccurredAt: time.Date(2024, 3, 31, 0, 30, 0, 0, time.UTC),
		ReceivedAt: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), Position: 1_500_000,
		Category: "marketing", EventName: "summit", Lead: "l1", Stage: "sql", Session: "s",
		Visitor: "v", URL: "https://a.example/", Referrer: "https://b.example/",
		UTMSource: "news", UTMMedium: "email", UTMCampaign: "may", Account: "@acme",
		Followers: 1234, Sentiment: "positive", Reach: 99, Keyword: "crm", Engine: "google",
		Rank: 1000, Person: "ana", Team: "design", Project: "site", Hours: 7_500_000,
		Billable: true, Score: 10}
	got, err := appendRow(nil, &e, 9, 2)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := warehouse.NewRowBinaryEncoder(eventColumns)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Append(Row(e, 9, 2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, enc.Bytes()) {
		t.Errorf("appendRow = %x\nwant        %x", got, enc.Bytes())
	}
}

func TestCatalogueColumnsFollowMigrationOne(t *testing.T) {
	cols := Columns()
	if got, want := cols[19].Name, "seq_index"; got != want {
		t.Fatalf("column 19: got %s, want %s", got, want)
	}
	if got, want := len(cols), 20+len(catalogueColumns); got != want {
		t.Errorf("columns: got %d, want %d", got, want)
	}
	if got, want := len(BenchRow(1, time.Now())), len(cols); got != want {
		t.Errorf("BenchRow values: got %d, want %d", got, want)
	}
}
