package projections

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

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

// Bucket is the time key of the catalogue_30m projection. Half an hour is
// the longest bucket that keeps every window of a zone with a half-hour
// offset whole, and the session rule exact: views in one bucket are less
// than SessionTimeout (30 minutes) apart, so a bucket never holds a session
// break. Queries spell it exactly so, which is how ClickHouse matches them.
const Bucket = "toStartOfInterval(occurred_at, toIntervalMinute(30))"

// BucketSize is the length of a Bucket.
const BucketSize = 30 * time.Minute

// CatalogueAggregate is the projection every catalogue KPI outside the ad
// family reads: per tenant, type, half hour and the dimensions its queries
// group or filter by, the sums, distinct counts and latest states they
// need. States ("latest" values by (occurred_at, stream_seq, seq_index))
// merge exactly whatever order events arrive in, so late events are no
// special case. Like ad_hourly it lives inside the events table's parts,
// so it is written atomically with the rows it sums and the projector's
// exactly-once rule covers it unchanged.
//
// It leaves out the ad events (CatalogueFilter), which ad_hourly serves:
// they are most of the volume, and computing these states for them made
// inserts 30 % slower.
const CatalogueAggregate = "catalogue_30m"

// CatalogueFilter is the projection's WHERE. A query is answered from the
// projection only when its own WHERE has this exact conjunct (ClickHouse
// matches the expression, and does not match a set written with IN).
const CatalogueFilter = "NOT has(['click', 'conversion', 'cost', 'impression', 'signup'], type)"

// PositionAggregate is the hourly projection of ad positions weighted by
// impressions, per campaign, channel and ad, like ad_hourly.
const PositionAggregate = "ad_position_hourly"

// PositionFilter is PositionAggregate's WHERE, which its queries repeat.
const PositionFilter = "type = 'impression'"

// catalogueKeys are the projection's GROUP BY columns after tenant, type and
// Bucket. Rows of an event type leave the columns it does not use empty, so
// each type only multiplies by its own dimensions.
var catalogueKeys = []string{"currency", "campaign", "channel", "category", "stage", "plan",
	"event_name", "sentiment", "person", "team", "project", "billable", "score", "customer",
	"subscription", "visitor", "session_id", "account", "keyword", "search_engine"}

// catalogueAggregates are the projection's aggregates. A query is answered
// from the projection only when it uses these expressions verbatim (an If
// combinator over a key does not match: queries group by the key instead).
var catalogueAggregates = []string{
	"count()", "sum(count)", "sum(amount)", "max(amount)", "sum(hours)", "sum(reach)",
	"uniqExact(lead)", "min(occurred_at)", "max(occurred_at)",
	"minIf(occurred_at, amount > 0)",
	// subscriptions: the state of the latest event, its first customer, paid ever
	"argMax((type, billing_interval, amount, currency), (occurred_at, stream_seq, seq_index))",
	"argMin(customer, (occurred_at, stream_seq, seq_index))",
	"max((type != 'subscription_canceled') AND (amount > 0))",
	// sessions: the attribution of the first view
	"argMin((utm_source, utm_medium, utm_campaign, referrer), (occurred_at, stream_seq, seq_index))",
	// followers, keyword ranks, project estimates and completions
	"argMax(followers, (occurred_at, stream_seq, seq_index))",
	"argMax(keyword_rank, (occurred_at, stream_seq, seq_index))",
	"argMin(keyword_rank, (occurred_at, stream_seq, seq_index))",
	"min(keyword_rank)",
	"argMax((hours, amount, currency), (occurred_at, stream_seq, seq_index))",
}

// addCatalogueAggregates is migration 4: the catalogue_30m and
// ad_position_hourly projections, built for the parts that already exist
// too (MATERIALIZE is a mutation; until it is done, queries read those
// parts' raw rows, with the same results).
func addCatalogueAggregates(db string) []string {
	keys := strings.Join(append([]string{"tenant", "type", Bucket}, catalogueKeys...), ", ")
	posKeys := "tenant, type, campaign, channel, ad, toStartOfHour(occurred_at)"
	return []string{
		fmt.Sprintf(`ALTER TABLE %s.events ADD PROJECTION IF NOT EXISTS %s (
	SELECT %s,
		%s
	WHERE %s
	GROUP BY %s
)`, db, CatalogueAggregate, keys, strings.Join(catalogueAggregates, ",\n\t\t"),
			CatalogueFilter, keys),
		fmt.Sprintf(`ALTER TABLE %s.events ADD PROJECTION IF NOT EXISTS %s (
	SELECT %s, sum(toDecimal128(ad_position, 6) * count), sumIf(count, ad_position > 0)
	WHERE %s
	GROUP BY %s
)`, db, PositionAggregate, posKeys, PositionFilter, posKeys),
		fmt.Sprintf("ALTER TABLE %s.events MATERIALIZE PROJECTION %s", db, CatalogueAggregate),
		fmt.Sprintf("ALTER TABLE %s.events MATERIALIZE PROJECTION %s", db, PositionAggregate),
	}
}
