package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kpi-analytics/kpi/projections"
	"github.com/kpi-analytics/kpi/queries"
)

const queryDB = "bench_q"

// queries stores cfg.queryEvents synthetic events (10 tenants, 20 campaigns
// each, 10 ads per campaign, 90 days, plus subscriptions), then times every
// KPI for one tenant over 30 days by day and campaign: from the aggregate
// projection, from raw rows (projections off), and again while ingest runs
// at half its end-to-end rate.
func (b *bencher) queries(ctx context.Context) error {
	if err := b.fillQueryDB(ctx); err != nil {
		return err
	}
	eng := queries.NewEngine(b.wh, queryDB)
	agg, err := b.timeKPIs(ctx, eng)
	if err != nil {
		return err
	}
	if err := b.wh.Exec(ctx, "SET optimize_use_projections = 0", nil); err != nil {
		return err
	}
	raw, err := b.timeKPIs(ctx, eng)
	if err2 := b.wh.Exec(ctx, "SET optimize_use_projections = 1", nil); err == nil {
		err = err2
	}
	if err != nil {
		return err
	}
	loaded, err := b.underLoad(ctx, func() ([]time.Duration, error) {
		t, err := b.timeKPIs(ctx, eng)
		return t.all, err
	})
	if err != nil {
		return err
	}
	n := fmt.Sprintf(" (%s events)", human(b.cfg.queryEvents))
	slow := agg.slowest()
	b.add(benchRow{measure: "KPI query p50, aggregates" + n, value: ms(pct(agg.all, 50)),
		unit: "ms"})
	b.add(benchRow{measure: "KPI query p95, aggregates" + n, value: ms(pct(agg.all, 95)),
		unit: "ms", ratio: target(pct(agg.all, 95) < 100*time.Millisecond, "target 100 ms")})
	b.add(benchRow{measure: "slowest KPI, median, aggregates" + n, value: ms(agg.median(slow)),
		unit: "ms", ratio: slow})
	b.add(benchRow{measure: "KPI query p95, raw rows" + n, value: ms(pct(raw.all, 95)),
		unit: "ms", ratio: fmt.Sprintf("%.1fx the aggregate p95",
			float64(pct(raw.all, 95))/float64(pct(agg.all, 95)))})
	b.add(benchRow{measure: "KPI query p95 under half-rate ingest" + n, value: ms(pct(loaded, 95)),
		unit: "ms", ratio: target(pct(loaded, 95) < 300*time.Millisecond, "target 300 ms")})
	b.perKPI = func(w io.Writer) { printPerKPI(w, n, agg, raw) }
	return nil
}

// kpiTimes are the latencies of every run of every KPI.
type kpiTimes struct {
	all   []time.Duration
	per   map[string][]time.Duration
	names []string // catalogue order
}

func (t kpiTimes) median(name string) time.Duration { return pct(t.per[name], 50) }

// byMedian returns the KPI names, slowest first.
func (t kpiTimes) byMedian() []string {
	names := slices.Clone(t.names)
	sort.SliceStable(names, func(i, j int) bool { return t.median(names[i]) > t.median(names[j]) })
	return names
}

func (t kpiTimes) slowest() string { return t.byMedian()[0] }

// printPerKPI writes each KPI's median from the aggregates next to the
// same query over the raw rows, slowest first.
func printPerKPI(w io.Writer, n string, agg, raw kpiTimes) {
	fmt.Fprintf(w, "\nper KPI, median%s\n", n)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kpi\taggregates ms\traw rows ms\traw / aggregates\t")
	for _, name := range agg.byMedian() {
		a, r := agg.median(name), raw.median(name)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1fx\t\n", name, ms(a), ms(r), float64(r)/float64(a))
	}
	_ = tw.Flush()
}

// timeKPIs runs every catalogue KPI cfg.queryRuns times; the six slowest
// by median go to stderr, to show where the time goes.
func (b *bencher) timeKPIs(ctx context.Context, eng *queries.Engine) (kpiTimes, error) {
	from := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	t := kpiTimes{per: map[string][]time.Duration{}}
	for range b.cfg.queryRuns {
		for _, k := range queries.Catalogue() {
			req := queries.Request{KPI: k.Name, From: from, To: from.AddDate(0, 0, 30),
				Window: queries.WindowDay, Filters: map[string]string{"tenant": "t3"}}
			if contains(k.Dimensions, "campaign") {
				req.GroupBy = []string{"campaign"}
			}
			start := time.Now()
			if _, err := eng.Run(ctx, req); err != nil {
				return kpiTimes{}, fmt.Errorf("kpi %s: %w", k.Name, err)
			}
			d := time.Since(start)
			if _, ok := t.per[k.Name]; !ok {
				t.names = append(t.names, k.Name)
			}
			t.all = append(t.all, d)
			t.per[k.Name] = append(t.per[k.Name], d)
		}
	}
	fmt.Fprint(os.Stderr, "  slowest KPIs (median):")
	for _, n := range t.byMedian()[:min(6, len(t.names))] {
		fmt.Fprintf(os.Stderr, " %s %.0f ms", n, ms(t.median(n)))
	}
	fmt.Fprintln(os.Stderr)
	return t, nil
}

// underLoad runs fn while events are posted at half the end-to-end rate.
func (b *bencher) underLoad(ctx context.Context, fn func() ([]time.Duration, error)) (
	[]time.Duration, error) {
	b.projectInBackground()
	loadCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		per := max(1, int(b.halfRate()/10))
		for loadCtx.Err() == nil {
			_ = postBody(loadCtx, b.base, benchBody(b.sent, per, "load", ""))
			b.sent += per
			select {
			case <-tick.C:
			case <-loadCtx.Done():
			}
		}
	}()
	time.Sleep(time.Second)
	out, err := fn()
	stop()
	<-done
	return out, err
}

// fillQueryDB generates the synthetic events inside ClickHouse with one
// INSERT ... SELECT per chunk: the query phase measures reading, and
// encoding 100M events in Go and shipping them would take longer than the
// queries it prepares. The mix is described at syntheticColumns.
func (b *bencher) fillQueryDB(ctx context.Context) error {
	if err := projections.Migrate(ctx, b.wh, queryDB); err != nil {
		return err
	}
	cols := make([]string, 0, len(syntheticColumns))
	exprs := make([]string, 0, len(syntheticColumns))
	for _, c := range syntheticColumns {
		cols, exprs = append(cols, c[0]), append(exprs, c[1]+" AS "+c[0])
	}
	const chunk = 5_000_000
	start := time.Now()
	for from := 0; from < b.cfg.queryEvents; from += chunk {
		n := min(chunk, b.cfg.queryEvents-from)
		q := fmt.Sprintf(`INSERT INTO %s (%s)
SELECT %s FROM (SELECT number, intHash64(number) AS h, h %% 1000 AS r, intHash64(h) AS h2,
	'c' || toString(h2 %% 20) AS camp, %s AS typ FROM numbers(%d, %d))`,
			projections.EventsTable(queryDB), strings.Join(cols, ", "),
			strings.Join(exprs, ",\n\t"), syntheticType, from, n)
		if err := b.wh.Exec(ctx, q, nil); err != nil {
			return fmt.Errorf("generate query data: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\r  generating query data: %s of %s", human(from+n),
			human(b.cfg.queryEvents))
	}
	fmt.Fprintf(os.Stderr, " in %s\n", time.Since(start).Round(time.Second))
	// Merge the chunks' parts as a long-running server would have by then.
	return b.wh.Exec(ctx, "OPTIMIZE TABLE "+projections.EventsTable(queryDB)+" FINAL", nil)
}

// syntheticType picks each event's type from r, a uniform draw in [0, 1000):
// ads 60 % (impressions, clicks, conversions, costs), page views 20 %, and
// the rest of the catalogue's types 0.1 % to 3 % each, subscriptions 1.5 %.
const syntheticType = `multiIf(r < 300, 'impression', r < 450, 'click', r < 500, 'conversion',
	r < 600, 'cost', r < 800, 'page_view', r < 820, 'signup', r < 835, 'lead_created',
	r < 845, 'lead_qualified', r < 850, 'opportunity_created', r < 853, 'deal_won',
	r < 855, 'deal_lost', r < 885, 'time_logged', r < 895, 'expense', r < 905, 'mention',
	r < 915, 'keyword_rank', r < 920, 'follower_snapshot', r < 925, 'survey_response',
	r < 935, 'event_registration', r < 940, 'event_attendance', r < 945, 'upsell_offered',
	r < 948, 'upsell_accepted', r < 955, 'invoice_paid', r < 957, 'refund',
	r < 959, 'project_estimate', r < 961, 'project_completed', r < 975, 'subscription_started',
	r < 985, 'subscription_changed', r < 990, 'subscription_canceled', 'impression')`

// syntheticColumns are the generated events' columns and their SQL: 10
// tenants, 20 campaigns each with 10 ads, 90 days from 2024-01-01, 50,000
// customers per tenant. Columns left out take their defaults.
var syntheticColumns = [][2]string{
	{"id", "generateUUIDv4(number)"},
	{"tenant", "'t' || toString(number % 10)"},
	{"type", "typ"},
	{"occurred_at", "toDateTime64('2024-01-01 00:00:00', 3, 'UTC') + " +
		"toIntervalMillisecond(h % 7776000000)"}, // 90 days
	{"received_at", "occurred_at"},
	{"source", "'bench'"},
	{"campaign", "camp"},
	{"ad", "camp || '-a' || toString(h2 % 10)"},
	{"channel", "['search', 'social', 'display', 'branded_search'][h2 % 4 + 1]"},
	{"count", "if(typ IN ('impression', 'click', 'conversion', 'signup', 'mention', " +
		"'event_registration', 'event_attendance'), 1 + h2 % 100, 1)"},
	{"value", "if(typ = 'conversion', toDecimal64(h2 % 200000, 6) / 1000, 0)"},
	{"amount", "multiIf(typ IN ('cost', 'expense', 'invoice_paid', 'refund', 'project_estimate', " +
		"'project_completed'), toDecimal64(h2 % 50000, 6) / 1000, typ LIKE 'subscription_%' " +
		"AND typ != 'subscription_canceled', toDecimal64(10 + h2 % 200, 6), 0)"},
	{"currency", "if(typ IN ('conversion', 'cost', 'expense', 'invoice_paid', 'refund', " +
		"'project_estimate', 'project_completed') OR typ LIKE 'subscription_%', 'USD', '')"},
	{"customer", "if(typ LIKE 'subscription_%' OR typ IN ('invoice_paid', 'refund', " +
		"'event_attendance', 'upsell_offered', 'upsell_accepted'), 'cust-' || toString(h2 % 50000), '')"},
	{"subscription", "if(typ LIKE 'subscription_%', 'sub-' || toString(h2 % 50000), '')"},
	{"plan", "if(typ LIKE 'subscription_%' OR typ LIKE 'upsell_%', ['basic', 'pro'][h2 % 2 + 1], '')"},
	{"billing_interval", "if(typ LIKE 'subscription_%', 'month', '')"},
	{"stream_seq", "number + 1"},
	{"ad_position", "if(typ = 'impression', toDecimal64(1 + h2 % 5, 6), 0)"},
	{"category", "if(typ = 'expense', ['marketing', 'sales', 'rent'][h2 % 3 + 1], '')"},
	{"event_name", "if(typ LIKE 'event_%', 'webinar-' || toString(h2 % 5), '')"},
	{"lead", "if(typ IN ('lead_created', 'lead_qualified', 'opportunity_created', 'deal_won', " +
		"'deal_lost'), 'lead-' || toString(h2 % 100000), '')"},
	{"stage", "if(typ = 'lead_qualified', ['mql', 'sql'][h2 % 2 + 1], '')"},
	{"visitor", "if(typ = 'page_view', 'v' || toString(h2 % 200000), '')"},
	{"url", "if(typ = 'page_view', '/p/' || toString(h2 % 50), '')"},
	{"utm_source", "if(typ = 'page_view', ['google', 'newsletter', 'facebook', ''][h2 % 4 + 1], '')"},
	{"utm_medium", "if(typ = 'page_view', ['cpc', 'email', 'social', ''][h2 % 4 + 1], '')"},
	{"account", "if(typ = 'follower_snapshot', 'acct-' || toString(h2 % 3), '')"},
	{"followers", "if(typ = 'follower_snapshot', 1000 + h2 % 5000, 0)"},
	{"sentiment", "if(typ = 'mention', ['positive', 'neutral', 'negative'][h2 % 3 + 1], '')"},
	{"reach", "if(typ = 'mention', h2 % 100000, 0)"},
	{"keyword", "if(typ = 'keyword_rank', 'kw-' || toString(h2 % 100), '')"},
	{"search_engine", "if(typ = 'keyword_rank', ['google', 'bing'][h2 % 2 + 1], '')"},
	{"keyword_rank", "if(typ = 'keyword_rank', 1 + h2 % 50, 0)"},
	{"person", "if(typ = 'time_logged', 'p' || toString(h2 % 40), '')"},
	{"team", "if(typ = 'time_logged', ['design', 'media', 'seo'][h2 % 3 + 1], '')"},
	{"project", "if(typ LIKE 'project_%' OR typ = 'time_logged', 'proj-' || toString(h2 % 30), '')"},
	{"hours", "if(typ IN ('time_logged', 'project_estimate', 'project_completed'), " +
		"toDecimal64(1 + h2 % 8, 6), 0)"},
	{"billable", "if(typ = 'time_logged', h2 % 3 != 0, 0)"},
	{"score", "if(typ = 'survey_response', h2 % 11, 0)"},
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func human(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%gM", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%gk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
