package queries

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// Engine answers KPI requests from the warehouse.
type Engine struct {
	wh warehouse.Conn
	db string
}

// NewEngine returns an Engine reading the tables of database db.
func NewEngine(wh warehouse.Conn, db string) *Engine { return &Engine{wh: wh, db: db} }

// Answer is a KPI computed over every window and group of a request.
type Answer struct {
	KPI      KPI       `json:"kpi"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Window   Window    `json:"window"`
	TimeZone string    `json:"tz"`
	GroupBy  []string  `json:"group_by"`
	Rows     []Row     `json:"rows"`
}

// Row is the KPI for one window and group.
type Row struct {
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	Group       map[string]string `json:"group,omitempty"`
	Currency    string            `json:"currency,omitempty"`
	value
}

// ErrMixedCurrencies is returned for a money KPI whose rows hold amounts in
// more than one currency.
var ErrMixedCurrencies = errors.New("amounts in several currencies; filter or group by currency")

// Run computes the KPI of req.
func (e *Engine) Run(ctx context.Context, req Request) (*Answer, error) {
	k, err := req.Validate()
	if err != nil {
		return nil, err
	}
	bounds := req.Bounds()
	var groups []group
	switch k.family {
	case familyBilling:
		groups, err = e.billing(ctx, req, bounds)
	default:
		groups, err = e.ads(ctx, req, bounds)
	}
	if err != nil {
		return nil, fmt.Errorf("kpi %s: %w", k.Name, err)
	}
	ans := &Answer{KPI: k, From: req.From, To: req.To, Window: req.Window,
		TimeZone: req.Location.String(), GroupBy: req.GroupBy, Rows: []Row{}}
	for _, g := range groups {
		if k.Unit == UnitMoney && len(g.currencies) > 1 {
			return nil, fmt.Errorf("kpi %s: %w (%s)", k.Name, ErrMixedCurrencies,
				strings.Join(keys(g.currencies), ", "))
		}
		ans.Rows = append(ans.Rows, Row{WindowStart: bounds[g.window].In(req.Location),
			WindowEnd: bounds[g.window+1].In(req.Location), Group: g.dims,
			Currency: strings.Join(keys(g.currencies), ","), value: k.compute(g.m)})
	}
	return ans, nil
}

// group accumulates the measures of one window and dimension tuple.
type group struct {
	window     int
	dims       map[string]string
	key        string
	currencies map[string]bool
	m          measures
}

// windowIndex finds the window holding unix time ws; times before the first
// bound (window starts floored before From) belong to the first window.
func windowIndex(bounds []time.Time, ws int64) int {
	t := time.Unix(ws, 0)
	i := sort.Search(len(bounds), func(i int) bool { return bounds[i].After(t) }) - 1
	return min(max(i, 0), len(bounds)-2)
}

// windowExpr is the SQL for the start of an event's window as unix seconds,
// written over toStartOfHour(occurred_at) where the zone allows so that the
// query can be answered from the hourly aggregate projection.
func windowExpr(req Request) string {
	t := "occurred_at"
	if wholeHourZone(req) && req.Window != WindowMinute {
		t = "toStartOfHour(occurred_at)"
	}
	var e string
	switch req.Window {
	case WindowMinute:
		e = "toStartOfMinute(occurred_at)"
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

// wholeHourZone reports whether the zone's offset is whole hours over the
// range, so that hours in UTC are hours in the zone too.
func wholeHourZone(req Request) bool {
	for _, t := range []time.Time{req.From, req.To} {
		if _, off := t.In(req.Location).Zone(); off%3600 != 0 {
			return false
		}
	}
	return true
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

func baseParams(req Request) warehouse.Params {
	p := warehouse.Params{"from": warehouse.FormatTime(req.From),
		"to": warehouse.FormatTime(req.To), "tz": req.Location.String()}
	for d, v := range req.Filters {
		p["f_"+d] = v
	}
	return p
}

// dimFilters is the SQL for the request's filters; dimension names come
// from the registry, values travel as parameters.
func dimFilters(req Request) string {
	var b strings.Builder
	for _, d := range sortedKeys(req.Filters) {
		fmt.Fprintf(&b, " AND %s = {f_%s:String}", d, d)
	}
	return b.String()
}

// adsSQL sums counts and money per window, group, type and currency. Its
// shape (plain sums grouped over toStartOfHour) is what lets ClickHouse
// answer it from the ad_hourly projection instead of the raw rows.
func (e *Engine) adsSQL(req Request) string {
	dims := strings.Join(append(slicesClone(req.GroupBy), "type", "currency"), ", ")
	return fmt.Sprintf(`SELECT %s AS ws, %s, sum(count) AS n, sum(amount) AS amount, sum(value) AS value
FROM %s.events
WHERE type IN ('impression', 'click', 'conversion', 'cost') AND %s%s
GROUP BY ws, %s`, windowExpr(req), dims, e.db, timeFilter(req), dimFilters(req), dims)
}

func (e *Engine) ads(ctx context.Context, req Request, bounds []time.Time) ([]group, error) {
	res, err := e.wh.Query(ctx, e.adsSQL(req), baseParams(req))
	if err != nil {
		return nil, err
	}
	acc := newAccumulator(req, bounds)
	nd := len(req.GroupBy)
	for _, r := range res.Rows {
		g := acc.group(windowIndex(bounds, r[0].(int64)), r[1:1+nd])
		typ, cur := r[1+nd].(string), r[2+nd].(string)
		n := r[3+nd].(int64)
		amount, err := ParseDecimal(r[4+nd].(string))
		if err != nil {
			return nil, err
		}
		val, err := ParseDecimal(r[5+nd].(string))
		if err != nil {
			return nil, err
		}
		switch typ {
		case "impression":
			g.m.impressions += n
		case "click":
			g.m.clicks += n
		case "conversion":
			g.m.conversions += n
			g.m.convValue = add(g.m.convValue, val)
		case "cost":
			g.m.spend = add(g.m.spend, amount)
		}
		if cur != "" {
			g.currencies[cur] = true
		}
	}
	return acc.list(), nil
}

// accumulator collects groups in window then dimension order.
type accumulator struct {
	req    Request
	bounds []time.Time
	byKey  map[string]*group
}

func newAccumulator(req Request, bounds []time.Time) *accumulator {
	a := &accumulator{req: req, bounds: bounds, byKey: map[string]*group{}}
	if len(req.GroupBy) == 0 {
		for w := 0; w < len(bounds)-1; w++ {
			a.group(w, nil)
		}
	}
	return a
}

func (a *accumulator) group(w int, dimVals []any) *group {
	var kb strings.Builder
	fmt.Fprintf(&kb, "%08d", w)
	var dims map[string]string
	if len(a.req.GroupBy) > 0 {
		dims = make(map[string]string, len(a.req.GroupBy))
	}
	for i, d := range a.req.GroupBy {
		s, _ := dimVals[i].(string)
		dims[d] = s
		kb.WriteString("\x00" + s)
	}
	k := kb.String()
	g, ok := a.byKey[k]
	if !ok {
		g = &group{window: w, dims: dims, key: k, currencies: map[string]bool{}}
		a.byKey[k] = g
	}
	return g
}

func (a *accumulator) list() []group {
	out := make([]group, 0, len(a.byKey))
	for _, g := range a.byKey {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func (e *Engine) billing(ctx context.Context, req Request, bounds []time.Time) ([]group, error) {
	p := baseParams(req)
	p["bounds"] = arrayParam(bounds)
	groupTenant, selTenant := "", ""
	if len(req.GroupBy) > 0 {
		groupTenant, selTenant = ", tenant", ", tenant"
	}
	q := fmt.Sprintf(billingSQL, e.db, dimFilters(req), selTenant, groupTenant)
	res, err := e.wh.Query(ctx, q, p)
	if err != nil {
		return nil, err
	}
	acc := newAccumulator(req, bounds)
	for _, r := range res.Rows {
		var dimVals []any
		if selTenant != "" {
			dimVals = r[8:9]
		}
		g := acc.group(int(r[0].(int64))-1, dimVals)
		if err := fillBilling(&g.m, r); err != nil {
			return nil, err
		}
	}
	return acc.list(), nil
}

func fillBilling(m *measures, r []any) error {
	rats := make([]*big.Rat, 4)
	for i, col := range []int{1, 2, 6, 7} {
		v, err := ParseDecimal(r[col].(string))
		if err != nil {
			return err
		}
		rats[i] = v
	}
	m.mrrStart, m.mrrEnd, m.churnedMRR, m.contractionMRR = rats[0], rats[1], rats[2], rats[3]
	m.customersStart, m.customersEnd = r[3].(int64), r[4].(int64)
	m.churnedCustomers = r[5].(int64)
	return nil
}

// billingSQL computes, for every window [bounds[w], bounds[w+1]), each
// customer's MRR at both ends and from those the window's MRR, customers,
// churn and contraction. A subscription's state at an instant is its latest
// event before it; a customer pays when the sum over their subscriptions
// is above zero, so trials with no amount do not count.
const billingSQL = `WITH {bounds:Array(DateTime64(3, 'UTC'))} AS bounds
SELECT w, sum(m0), sum(m1), countIf(m0 > 0), countIf(m1 > 0),
	countIf(m0 > 0 AND m1 = 0), sumIf(m0, m0 > 0 AND m1 = 0),
	sumIf(m0 - m1, m0 > 0 AND m1 > 0 AND m1 < m0)%[3]s
FROM (
	SELECT tenant, customer, w, sumIf(m, bi = w) AS m0, sumIf(m, bi = w + 1) AS m1
	FROM (
		SELECT tenant, customer, bi, sumIf(monthly, active) AS m
		FROM (
			SELECT tenant, subscription, bi,
				argMax(customer, (occurred_at, stream_seq, seq_index)) AS customer,
				argMax(type != 'subscription_canceled', (occurred_at, stream_seq, seq_index)) AS active,
				argMax(if(billing_interval = 'year', amount / 12, amount),
					(occurred_at, stream_seq, seq_index)) AS monthly
			FROM %[1]s.events
			ARRAY JOIN arrayEnumerate(bounds) AS bi
			WHERE type IN ('subscription_started', 'subscription_changed', 'subscription_canceled')
				AND occurred_at < bounds[bi]%[2]s
			GROUP BY tenant, subscription, bi
		)
		GROUP BY tenant, customer, bi
	)
	ARRAY JOIN [bi - 1, bi] AS w
	WHERE w >= 1 AND w < length(bounds)
	GROUP BY tenant, customer, w
)
GROUP BY w%[4]s
ORDER BY w%[4]s`

func arrayParam(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "'" + warehouse.FormatTime(t) + "'"
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
