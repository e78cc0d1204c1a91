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

// Bucket is the time key of the half-hourly aggregates. Half an hour is
// the longest bucket that keeps every window of a zone with a half-hour
// offset whole, and the session rule exact: views in one bucket are less
// than SessionTimeout (30 minutes) apart, so a bucket never holds a session
// break. Queries spell it exactly so, which is how ClickHouse matches them.
const Bucket = "toStartOfInterval(occurred_at, toIntervalMinute(30))"

// BucketSize is the length of a Bucket.
const BucketSize = 30 * time.Minute

// Aggregate is one aggregate projection of the events table: per tenant,
// type, time bucket and the dimensions its queries group or filter by, the
// sums, distinct counts and latest states they need. Latest states are
// argMax by (occurred_at, stream_seq, seq_index), which merges exactly
// whatever order events arrive in, so late events are no special case.
// Like ad_hourly, each lives inside the events table's parts, so it is
// written atomically with the rows it sums and the projector's
// exactly-once rule covers it unchanged.
//
// A query is answered from a projection only when its WHERE has Filter as
// an exact conjunct (ClickHouse matches the expression; a set written with
// IN does not match), its GROUP BY is made of the keys or expressions of
// them, and its aggregates are spelled as the projection's. Each takes only
// its own event types, so an event pays for one projection's aggregates:
// one projection with every aggregate for all these types halved the insert
// rate of page views.
type Aggregate struct {
	Name   string
	Filter string
	keys   []string
	aggs   []string
}

// latestBy orders one subject's events: by time, then stream position.
const latestBy = "(occurred_at, stream_seq, seq_index)"

// The aggregate projections of migration 4.
var (
	// Sessions holds page views per visitor, session id and half hour:
	// what the session rule needs.
	Sessions = Aggregate{Name: "sessions_30m", Filter: "type = 'page_view'",
		keys: []string{"tenant", "type", Bucket, "visitor", "session_id"},
		aggs: []string{"min(occurred_at)", "max(occurred_at)", "count()",
			"argMin((utm_source, utm_medium, utm_campaign, referrer), " + latestBy + ")"}}
	// Subscriptions holds each subscription's latest state per half hour,
	// the customer of its first event and whether it was ever paid.
	Subscriptions = Aggregate{Name: "subscriptions_30m",
		Filter: "has(['subscription_canceled', 'subscription_changed', " +
			"'subscription_started'], type)",
		keys: []string{"tenant", "type", Bucket, "subscription", "customer"},
		aggs: []string{
			"argMax((type, billing_interval, amount, currency), " + latestBy + ")",
			"argMin(customer, " + latestBy + ")",
			"max((type != 'subscription_canceled') AND (amount > 0))",
			"minIf(occurred_at, amount > 0)", "max(amount)"}}
	// Catalogue holds every other event type of the catalogue that is not
	// an ad event (those are ad_hourly's): low-volume flows and states.
	Catalogue = Aggregate{Name: "catalogue_30m",
		Filter: "NOT has(['click', 'conversion', 'cost', 'impression', 'page_view', 'signup', " +
			"'subscription_canceled', 'subscription_changed', 'subscription_started'], type)",
		keys: []string{"tenant", "type", Bucket, "currency", "campaign", "channel", "category",
			"stage", "plan", "event_name", "sentiment", "person", "team", "project", "billable",
			"score", "customer", "account", "keyword", "search_engine"},
		aggs: []string{"count()", "sum(count)", "sum(amount)", "max(amount)", "sum(hours)",
			"sum(reach)", "uniqExact(lead)", "min(occurred_at)", "max(occurred_at)",
			"argMax(followers, " + latestBy + ")",
			"argMax(keyword_rank, " + latestBy + ")", "argMin(keyword_rank, " + latestBy + ")",
			"min(keyword_rank)", "argMax((hours, amount, currency), " + latestBy + ")"}}
	// Positions holds impression-weighted ad positions per hour, campaign,
	// channel and ad, like ad_hourly.
	Positions = Aggregate{Name: "ad_position_hourly", Filter: "type = 'impression'",
		keys: []string{"tenant", "type", "campaign", "channel", "ad", "toStartOfHour(occurred_at)"},
		aggs: []string{"sum(toDecimal128(ad_position, 6) * count)",
			"sumIf(count, ad_position > 0)"}}
)

// aggregates are the projections migration 4 adds.
var aggregates = []Aggregate{Catalogue, Sessions, Subscriptions, Positions}

// addAggregates is migration 4: the aggregate projections, built for the
// parts that already exist too (MATERIALIZE is a mutation; until it is
// done, queries read those parts' raw rows, with the same results).
func addAggregates(db string) []string {
	var out []string
	for _, a := range aggregates {
		keys := strings.Join(a.keys, ", ")
		out = append(out, fmt.Sprintf(`ALTER TABLE %s.events ADD PROJECTION IF NOT EXISTS %s (
	SELECT %s,
		%s
	WHERE %s
	GROUP BY %s
)`, db, a.Name, keys, strings.Join(a.aggs, ",\n\t\t"), a.Filter, keys))
	}
	for _, a := range aggregates {
		out = append(out, fmt.Sprintf("ALTER TABLE %s.events MATERIALIZE PROJECTION %s", db, a.Name))
	}
	return out
}
