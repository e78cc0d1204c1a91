package projections

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// catalogueColumns are the events-table columns of the fields the KPI
// catalogue added to the envelope (migration 2), in insert order after
// seq_index. Columns whose JSON key is a ClickHouse keyword or too generic
// are renamed: session → session_id, engine → search_engine, rank →
// keyword_rank, position → ad_position.
var catalogueColumns = []warehouse.Column{
	{Name: "ad_position", Type: "Decimal(18, 6)"},
	{Name: "category", Type: "LowCardinality(String)"},
	{Name: "event_name", Type: "String"},
	{Name: "lead", Type: "String"},
	{Name: "stage", Type: "LowCardinality(String)"},
	{Name: "session_id", Type: "String"},
	{Name: "visitor", Type: "String"},
	{Name: "url", Type: "String"},
	{Name: "referrer", Type: "String"},
	{Name: "utm_source", Type: "LowCardinality(String)"},
	{Name: "utm_medium", Type: "LowCardinality(String)"},
	{Name: "utm_campaign", Type: "String"},
	{Name: "account", Type: "String"},
	{Name: "followers", Type: "UInt64"},
	{Name: "sentiment", Type: "LowCardinality(String)"},
	{Name: "reach", Type: "UInt64"},
	{Name: "keyword", Type: "String"},
	{Name: "search_engine", Type: "LowCardinality(String)"},
	{Name: "keyword_rank", Type: "UInt32"},
	{Name: "person", Type: "String"},
	{Name: "team", Type: "LowCardinality(String)"},
	{Name: "project", Type: "String"},
	{Name: "hours", Type: "Decimal(18, 6)"},
	{Name: "billable", Type: "UInt8"},
	{Name: "score", Type: "UInt8"},
}

// addCatalogueColumns is migration 2: one ALTER adding every column of
// catalogueColumns, each IF NOT EXISTS so that a rerun is harmless.
func addCatalogueColumns(db string) []string {
	clauses := make([]string, len(catalogueColumns))
	for i, c := range catalogueColumns {
		clauses[i] = fmt.Sprintf("ADD COLUMN IF NOT EXISTS %s %s", c.Name, c.Type)
	}
	return []string{fmt.Sprintf("ALTER TABLE %s.events\n\t%s", db,
		strings.Join(clauses, ",\n\t"))}
}

// createGoals is migration 3: the KPI goals that package queries sets and
// reads. A goal is replaced by setting it again; readers use FINAL.
func createGoals(db string) []string {
	return []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.goals (
	tenant String,
	kpi LowCardinality(String),
	period_start DateTime64(3, 'UTC'),
	period_end DateTime64(3, 'UTC'),
	target Decimal(18, 6),
	set_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(set_at)
ORDER BY (tenant, kpi, period_start, period_end)`, db)}
}

// catalogueRow returns the values of catalogueColumns for e.
func catalogueRow(e events.Event) []any {
	return []any{int64(e.Position), e.Category, e.EventName, e.Lead, e.Stage, e.Session,
		e.Visitor, e.URL, e.Referrer, e.UTMSource, e.UTMMedium, e.UTMCampaign, e.Account,
		uint64(e.Followers), e.Sentiment, uint64(e.Reach), e.Keyword, e.Engine,
		uint32(e.Rank), e.Person, e.Team, e.Project, int64(e.Hours), flag(e.Billable),
		uint8(e.Score)}
}

// catalogueZero is catalogueRow of an event without catalogue fields.
func catalogueZero() []any { return catalogueRow(events.Event{}) }

// appendCatalogue encodes catalogueRow(e) as RowBinary, like appendRow.
func appendCatalogue(b []byte, e *events.Event) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Position))
	for _, s := range []string{e.Category, e.EventName, e.Lead, e.Stage, e.Session, e.Visitor,
		e.URL, e.Referrer, e.UTMSource, e.UTMMedium, e.UTMCampaign, e.Account} {
		b = appendString(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Followers))
	b = appendString(b, e.Sentiment)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Reach))
	b = appendString(b, e.Keyword)
	b = appendString(b, e.Engine)
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Rank))
	for _, s := range []string{e.Person, e.Team, e.Project} {
		b = appendString(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Hours))
	return append(b, flag(e.Billable), uint8(e.Score))
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
