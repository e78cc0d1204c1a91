package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/projections"
)

// TestCatalogueFieldsReachTheirColumns sends a page view and a time log
// through the stream and reads the catalogue columns back.
func TestCatalogueFieldsReachTheirColumns(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	evs := []events.Event{
		{ID: "0195f5c3-2b1e-7a1e-9f00-000000000101", Type: events.TypePageView, Tenant: "acme",
			OccurredAt: at, ReceivedAt: at, Visitor: "v1", Session: "s1", URL: "/pricing",
			UTMSource: "news"},
		{ID: "0195f5c3-2b1e-7a1e-9f00-000000000102", Type: events.TypeTimeLogged, Tenant: "acme",
			OccurredAt: at, ReceivedAt: at, Person: "ana", Hours: 7_250_000, Billable: true},
	}
	for _, e := range evs {
		data, _ := events.Marshal(e)
		subject := broker.EventSubject(e.Tenant, string(e.Type))
		if _, err := f.js.Publish(context.Background(), subject, data); err != nil {
			t.Fatal(err)
		}
	}
	catchUp(t, f.projector(t, f.wh, 10))
	res, err := f.wh.Query(context.Background(), fmt.Sprintf(`SELECT type, visitor, session_id,
	utm_source, person, hours, billable FROM %s ORDER BY type`, projections.EventsTable(f.db)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(res.Rows)
	want := "[[page_view v1 s1 news  0 0] [time_logged    ana 7.25 1]]"
	if got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
}

// TestMigrateIsRepeatable runs every migration a second time on a database
// that has them all, as after a crash before the bookkeeping row.
func TestMigrateIsRepeatable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, m := range projections.Migrations {
		for i, q := range m.SQL(f.db) {
			if err := f.wh.Exec(ctx, q, nil); err != nil {
				t.Fatalf("migration %d statement %d again: %v", m.Version, i, err)
			}
		}
	}
	res, err := f.wh.Query(ctx, fmt.Sprintf("SELECT max(version) FROM %s.schema_migrations",
		f.db), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rows[0][0], int64(len(projections.Migrations)); got != want {
		t.Errorf("schema version: got %v, want %v", got, want)
	}
}
