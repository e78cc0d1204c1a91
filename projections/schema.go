package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// EventsTable is the raw events table of database db.
func EventsTable(db string) string { return db + ".events" }

// eventColumns are the columns the projector writes, in insert order: those
// of migration 1, then catalogueColumns.
var eventColumns = append([]warehouse.Column{
	{Name: "id", Type: "UUID"},
	{Name: "tenant", Type: "LowCardinality(String)"},
	{Name: "type", Type: "LowCardinality(String)"},
	{Name: "occurred_at", Type: "DateTime64(3, 'UTC')"},
	{Name: "received_at", Type: "DateTime64(3, 'UTC')"},
	{Name: "source", Type: "LowCardinality(String)"},
	{Name: "campaign", Type: "String"},
	{Name: "ad", Type: "String"},
	{Name: "channel", Type: "LowCardinality(String)"},
	{Name: "count", Type: "UInt64"},
	{Name: "value", Type: "Decimal(18, 6)"},
	{Name: "amount", Type: "Decimal(18, 6)"},
	{Name: "currency", Type: "LowCardinality(String)"},
	{Name: "customer", Type: "String"},
	{Name: "subscription", Type: "String"},
	{Name: "plan", Type: "String"},
	{Name: "billing_interval", Type: "LowCardinality(String)"},
	{Name: "invoice", Type: "String"},
	{Name: "stream_seq", Type: "UInt64"},
	{Name: "seq_index", Type: "UInt32"},
}, catalogueColumns...)

// Migration is one versioned schema change. SQL receives the database name;
// statements run in order and must be safe to run again (IF NOT EXISTS),
// since a crash can land between a statement and its bookkeeping row.
type Migration struct {
	Version int
	Name    string
	SQL     func(db string) []string
}

// Migrations is the schema history, oldest first. Never edit a released
// entry: add a new one.
var Migrations = []Migration{{
	Version: 1, Name: "events table with hourly ad aggregate",
	SQL: func(db string) []string {
		return []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.events (
	id UUID,
	tenant LowCardinality(String),
	type LowCardinality(String),
	occurred_at DateTime64(3, 'UTC'),
	received_at DateTime64(3, 'UTC'),
	source LowCardinality(String),
	campaign String,
	ad String,
	channel LowCardinality(String),
	count UInt64,
	value Decimal(18, 6),
	amount Decimal(18, 6),
	currency LowCardinality(String),
	customer String,
	subscription String,
	plan String,
	billing_interval LowCardinality(String),
	invoice String,
	stream_seq UInt64,
	seq_index UInt32,
	INDEX stream_seq_minmax stream_seq TYPE minmax GRANULARITY 1,
	PROJECTION ad_hourly (
		SELECT tenant, type, campaign, channel, ad, toStartOfHour(occurred_at), currency,
			sum(count), sum(value), sum(amount), count()
		GROUP BY tenant, type, campaign, channel, ad, toStartOfHour(occurred_at), currency
	)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, type, occurred_at)`, db)}
	},
}, {
	Version: 2, Name: "event columns of the KPI catalogue", SQL: addCatalogueColumns,
}, {
	Version: 3, Name: "goals table", SQL: createGoals,
}, {
	Version: 4, Name: "aggregates of the KPI catalogue", SQL: addAggregates,
}}

// Migrate creates database db if needed and applies every migration not yet
// recorded in db.schema_migrations, in version order.
func Migrate(ctx context.Context, wh warehouse.Conn, db string) error {
	if !warehouse.ValidIdent(db) {
		return fmt.Errorf("migrate: database name %q is not a valid identifier", db)
	}
	setup := []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s", db),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.schema_migrations (
	version UInt32, name String, applied_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY version`, db),
	}
	for _, q := range setup {
		if err := wh.Exec(ctx, q, nil); err != nil {
			return fmt.Errorf("migrate: setup: %w", err)
		}
	}
	res, err := wh.Query(ctx, fmt.Sprintf("SELECT max(version) FROM %s.schema_migrations", db), nil)
	if err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	current, _ := res.Rows[0][0].(int64)
	for _, m := range Migrations {
		if int64(m.Version) <= current {
			continue
		}
		if err := apply(ctx, wh, db, m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, wh warehouse.Conn, db string, m Migration) error {
	for i, q := range m.SQL(db) {
		if err := wh.Exec(ctx, q, nil); err != nil {
			return fmt.Errorf("migrate: version %d (%s) statement %d: %w", m.Version, m.Name, i, err)
		}
	}
	rows := [][]any{{int64(m.Version), m.Name, time.Now().UTC()}}
	cols := []warehouse.Column{{Name: "version", Type: "UInt32"}, {Name: "name", Type: "String"},
		{Name: "applied_at", Type: "DateTime64(3, 'UTC')"}}
	if err := wh.Insert(ctx, db+".schema_migrations", cols, rows); err != nil {
		return fmt.Errorf("migrate: record version %d: %w", m.Version, err)
	}
	return nil
}

// Columns returns the raw events table's columns in insert order.
func Columns() []warehouse.Column { return append([]warehouse.Column(nil), eventColumns...) }

// BenchRow builds a synthetic click row for insert benchmarks.
func BenchRow(i int, at time.Time) []any {
	id := fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i)
	row := []any{id, fmt.Sprintf("bench-%d", i%10), "click", at.Add(time.Duration(i) * 10 * time.Millisecond),
		at, "bench", fmt.Sprintf("campaign-%d", i%50), fmt.Sprintf("ad-%d", i%500), "search",
		int64(1), int64(0), int64(0), "", "", "", "", "", "", uint64(i + 1), uint32(0)}
	return append(row, catalogueZero()...)
}
