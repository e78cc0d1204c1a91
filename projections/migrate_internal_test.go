package projections

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb/chdbtest"
)

// TestAggregatesOfExistingRows upgrades a database holding rows from
// migration 3 to 4: the mutation must build the projections for the
// parts that were already there.
func TestAggregatesOfExistingRows(t *testing.T) {
	wh, db, ctx := chdbtest.Shared(t), chdbtest.Database(t), context.Background()
	all := Migrations
	Migrations = all[:3]
	err := Migrate(ctx, wh, db)
	Migrations = all
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var rows [][]any
	for i, typ := range []events.Type{events.TypeSubscriptionStarted, events.TypePageView,
		events.TypeImpression, events.TypeClick, events.TypeMention} {
		e := events.Event{ID: fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i), Type: typ,
			Tenant: "acme", OccurredAt: at, Count: 1, Position: 2_000_000}
		rows = append(rows, Row(e, uint64(i+1), 0))
	}
	if err := wh.Insert(ctx, EventsTable(db), Columns(), rows); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, wh, db); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ad_hourly": 5, Catalogue.Name: 1, Sessions.Name: 1,
		Subscriptions.Name: 1, Positions.Name: 1}
	got := map[string]int64{}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		res, err := wh.Query(ctx, `SELECT name, toInt64(sum(rows)) FROM system.projection_parts
WHERE database = {db:String} AND table = 'events' AND active GROUP BY name`,
			map[string]string{"db": db})
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]int64{}
		for _, r := range res.Rows {
			got[r[0].(string)] = r[1].(int64)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("projection rows after migration 4 = %v, want %v", got, want)
}
