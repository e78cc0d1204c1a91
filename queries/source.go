package queries

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/projections"
)

// source is one query over the events table that adds some measures to
// every window and group of a request. A KPI lists the sources it needs;
// sources that several KPIs share run once per request each.
type source struct {
	name string
	// dims are the dimensions the query can group and filter by.
	dims []string
	run  func(ctx context.Context, q *query) error
}

// query is one request being answered.
type query struct {
	e       *Engine
	req     Request
	bounds  []time.Time
	acc     *accumulator
	fx      *converter // nil when amounts stay in their own currency
	inMoney bool       // the KPI's value involves money
}

// flow is the most common source shape: aggregates of the events of some
// types whose occurred_at lies in the window, per window start and group.
//
// It reads in two steps so that ClickHouse can answer from a projection:
// the inner query groups by window, group, type and keys and reads aggs,
// aggregates the projection holds verbatim (named a1, a2, ...); the outer
// one pivots them into cols, whose conditions (type = ..., stage = ...)
// select inner rows by their keys. An aggregate with a condition inside,
// such as sumIf(amount, type = 'refund'), would not match the projection.
type flow struct {
	types []events.Type
	// keys are more columns the inner query groups by: projection keys, or
	// expressions of them written "expr AS name".
	keys []string
	aggs []string
	// currency groups rows by currency too, so that money columns can be
	// converted or checked for mixing.
	currency bool
	cols     []col
	// hourly reads the ad_position_hourly projection (hourly, impressions)
	// instead of catalogue_30m (projections.Catalogue).
	hourly bool
}

// col is one aggregate of a query and the measure it adds to. Money
// columns are converted to the requested currency, if any.
type col struct {
	sql   string
	m     measure
	money bool
}

// layout says how to read a result row: a window key, the group-by
// dimensions in request order, a currency if any, then cols.
type layout struct {
	// byIndex: the key is the window's index; else its start in unix seconds.
	byIndex  bool
	currency bool
	cols     []col
}

// run queries the flow and adds its columns to the request's groups.
func (f flow) run(ctx context.Context, q *query) error {
	res, err := q.e.wh.Query(ctx, f.sql(q), q.params())
	if err != nil {
		return err
	}
	return q.collect(res, layout{currency: f.currency, cols: f.cols})
}

func (f flow) sql(q *query) string {
	outer := groupColumns(q.req.GroupBy)
	if f.currency {
		outer = append(outer, "currency")
	}
	inner := append([]string{"type"}, outer...)
	for _, k := range f.keys {
		if !slices.Contains(inner, k) {
			inner = append(inner, k)
		}
	}
	names := make([]string, len(inner))
	for i, k := range inner {
		names[i] = k
		if _, alias, ok := strings.Cut(k, " AS "); ok {
			names[i] = alias
		}
	}
	aggs := make([]string, len(f.aggs))
	for i, a := range f.aggs {
		aggs[i] = fmt.Sprintf("%s AS a%d", a, i+1)
	}
	cols := make([]string, len(f.cols))
	for i, c := range f.cols {
		cols[i] = c.sql
	}
	ws, span, where := windowExpr(q.req, q.timeKey()), q.rangeFilter(), projections.Catalogue.Filter
	if f.hourly {
		ws, span, where = windowExpr(q.req, "occurred_at"), timeFilter(q.req),
			projections.Positions.Filter
	}
	return fmt.Sprintf(`SELECT ws%s, %s
FROM (
	SELECT %s AS ws, %s, %s
	FROM %s.events
	WHERE type IN (%s) AND %s AND %s%s
	GROUP BY ws, %s
)
GROUP BY ws%s`, prefixed(outer), strings.Join(cols, ", "), ws, strings.Join(inner, ", "),
		strings.Join(aggs, ", "), q.e.db, typeList(f.types), where, span, dimFilters(q.req),
		strings.Join(names, ", "), prefixed(outer))
}

// collect adds the rows of res to the request's groups.
func (q *query) collect(res *warehouse.Result, l layout) error {
	nd := len(q.req.GroupBy)
	for _, r := range res.Rows {
		w, ok := q.window(r[0], l.byIndex)
		if !ok {
			continue
		}
		g := q.acc.group(w, r[1:1+nd])
		i, cur := 1+nd, ""
		if l.currency {
			cur, _ = r[i].(string)
			i++
		}
		for j, c := range l.cols {
			v, err := ratOf(r[i+j])
			if err != nil {
				return fmt.Errorf("column %d: %w", i+j, err)
			}
			if c.money {
				if v, err = q.money(g, cur, v); err != nil {
					return err
				}
			}
			g.m.add(c.m, v)
		}
	}
	return nil
}

// window maps a row's key to a window index.
func (q *query) window(key any, byIndex bool) (int, bool) {
	n, _ := key.(int64)
	if !byIndex {
		return windowIndex(q.bounds, n), true
	}
	return int(n), n >= 0 && int(n) < len(q.bounds)-1
}

// money converts v from currency cur when the request asks for it, and
// notes the currency the group's money is in.
func (q *query) money(g *group, cur string, v *big.Rat) (*big.Rat, error) {
	if cur == "" {
		return v, nil
	}
	if q.fx == nil {
		g.currencies[cur] = true
		return v, nil
	}
	f, err := q.fx.factor(cur)
	if err != nil {
		return nil, err
	}
	g.currencies[q.fx.to] = true
	return new(big.Rat).Mul(v, f), nil
}

// noteCurrencies records the currencies of amounts a query converted in
// SQL, checking that each has a rate.
func (q *query) noteCurrencies(g *group, curs any) error {
	list, _ := curs.([]any)
	for _, c := range list {
		if _, err := q.money(g, c.(string), new(big.Rat)); err != nil {
			return err
		}
	}
	return nil
}

// params are the parameters every source may use: the range, the time
// zone, the window bounds, the filters and the conversion rates.
func (q *query) params() warehouse.Params {
	p := warehouse.Params{"from": warehouse.FormatTime(q.req.From),
		"to": warehouse.FormatTime(q.req.To), "tz": q.req.Location.String(),
		"social": stringArray(SocialChannels)}
	for d, v := range q.req.Filters {
		p["f_"+d] = v
	}
	if q.fx != nil {
		p["fx_cur"], p["fx_rate"] = q.fx.params()
	}
	return p
}

// boundParams are params plus the window bounds, for sources that compute
// states at instants (MRR, followers, revenue to date).
func (q *query) boundParams() warehouse.Params {
	p := q.params()
	p["bounds"] = arrayParam(q.bounds)
	return p
}

func ratOf(v any) (*big.Rat, error) {
	switch x := v.(type) {
	case nil:
		return new(big.Rat), nil
	case int64:
		return ratInt(x), nil
	case float64:
		return new(big.Rat).SetFloat64(x), nil
	case string:
		return ParseDecimal(x)
	}
	return nil, fmt.Errorf("unexpected value %v of type %T", v, v)
}

// windowExpr is the SQL for the start of the window holding time column
// col, as unix seconds. Over occurred_at it is written over
// toStartOfHour(occurred_at) where the zone allows, so that ad queries can
// be answered from the hourly aggregate projection.
func windowExpr(req Request, col string) string {
	t := col
	if wholeHourZone(req) && req.Window != WindowMinute {
		t = "toStartOfHour(" + col + ")"
	}
	var e string
	switch req.Window {
	case WindowMinute:
		e = "toStartOfMinute(" + col + ")"
	case WindowHour:
		e = fmt.Sprintf("toStartOfHour(%s, {tz:String})", t)
	case WindowDay:
		e = fmt.Sprintf("toStartOfDay(%s, {tz:String})", t)
	case WindowWeek:
		e = fmt.Sprintf("toDateTime(toMonday(%s, {tz:String}), {tz:String})", t)
	case WindowMonth:
		e = fmt.Sprintf("toDateTime(toStartOfMonth(%s, {tz:String}), {tz:String})", t)
	default:
		return "toInt64(0)"
	}
	return "toInt64(toUnixTimestamp(" + e + "))"
}

// wholeHourZone reports whether every offset the zone takes from the
// local midnight before the range to its end is whole hours, so that hours
// in UTC are hours in the zone too (ClickHouse counts a day's hours from
// its midnight). Checking the ends alone is not enough:
// Australia/Lord_Howe is +11 in summer and +10:30 in winter.
func wholeHourZone(req Request) bool {
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := req.From.In(loc).Date()
	for t := time.Date(y, m, d, 0, 0, 0, 0, loc); ; {
		if _, off := t.Zone(); off%3600 != 0 {
			return false
		}
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(req.To) {
			return true
		}
		t = end
	}
}

// bucketed reports whether every bound of the request's windows falls on
// a projections.Bucket boundary, so that windows and states at bounds can
// be read from whole buckets of the half-hourly projections. Otherwise
// (minute windows, ranges off the half hour, zones offset by 45 minutes)
// sources run the same SQL over occurred_at, which ClickHouse answers from
// the raw rows, with the same result.
func (q *query) bucketed() bool {
	if q.e.unbucketed {
		return false
	}
	size := projections.BucketSize.Milliseconds()
	for _, b := range q.bounds {
		if b.UnixMilli()%size != 0 {
			return false
		}
	}
	return true
}

// timeKey is the time column sources compare with window bounds: the
// projection's bucket when the request is bucketed, else occurred_at.
func (q *query) timeKey() string {
	if q.bucketed() {
		return projections.Bucket
	}
	return "occurred_at"
}

// rangeFilter restricts timeKey to [from, to).
func (q *query) rangeFilter() string {
	t := q.timeKey()
	return t + " >= {from:DateTime64(3, 'UTC')} AND " + t + " < {to:DateTime64(3, 'UTC')}"
}

// timeFilter restricts occurred_at to [from, to), over the hour column when
// both ends are whole hours so the aggregate projection still applies.
func timeFilter(req Request) string {
	if req.From.Truncate(time.Hour).Equal(req.From) && req.To.Truncate(time.Hour).Equal(req.To) {
		return "toStartOfHour(occurred_at) >= {from:DateTime64(3, 'UTC')} AND " +
			"toStartOfHour(occurred_at) < {to:DateTime64(3, 'UTC')}"
	}
	return "occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}"
}

// dimFilters is the SQL for the request's filters; dimension names come
// from the registry, values travel as parameters.
func dimFilters(req Request) string {
	return filtersOn(req, func(string) bool { return true })
}

// filtersOn is dimFilters for the filtered dimensions keep accepts.
func filtersOn(req Request, keep func(dim string) bool) string {
	var b strings.Builder
	for _, d := range sortedKeys(req.Filters) {
		if keep(d) {
			fmt.Fprintf(&b, " AND %s = {f_%s:String}", dimColumn(d), d)
		}
	}
	return b.String()
}

// groupColumns maps group-by dimensions to their columns.
func groupColumns(dims []string) []string {
	out := make([]string, len(dims))
	for i, d := range dims {
		out[i] = dimColumn(d)
	}
	return out
}

// prefixed joins columns, each preceded by ", ".
func prefixed(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return ", " + strings.Join(cols, ", ")
}

// typeList renders event types, constants of package events whose alphabet
// is [a-z_], as a SQL list.
func typeList(ts []events.Type) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "'" + string(t) + "'"
	}
	return strings.Join(parts, ", ")
}

// latest orders the events of one subject, ties broken by stream position.
const latest = "(occurred_at, stream_seq, seq_index)"

func arrayParam(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "'" + warehouse.FormatTime(t) + "'"
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// stringArray renders constant strings (no quotes or backslashes) as an
// Array(String) parameter.
func stringArray(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = "'" + s + "'"
	}
	return "[" + strings.Join(parts, ",") + "]"
}
