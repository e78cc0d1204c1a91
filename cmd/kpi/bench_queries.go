package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/kpi-analytics/kpi/events"
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
	loaded, err := b.underLoad(ctx, func() ([]time.Duration, error) { return b.timeKPIs(ctx, eng) })
	if err != nil {
		return err
	}
	n := fmt.Sprintf(" (%s events)", human(b.cfg.queryEvents))
	b.add(benchRow{measure: "KPI query p50, aggregates" + n, value: ms(pct(agg, 50)), unit: "ms"})
	b.add(benchRow{measure: "KPI query p95, aggregates" + n, value: ms(pct(agg, 95)), unit: "ms",
		ratio: target(pct(agg, 95) < 100*time.Millisecond, "target 100 ms")})
	b.add(benchRow{measure: "KPI query p95, raw rows" + n, value: ms(pct(raw, 95)), unit: "ms",
		ratio: fmt.Sprintf("%.1fx the aggregate p95", float64(pct(raw, 95))/float64(pct(agg, 95)))})
	b.add(benchRow{measure: "KPI query p95 under half-rate ingest" + n, value: ms(pct(loaded, 95)),
		unit: "ms", ratio: target(pct(loaded, 95) < 300*time.Millisecond, "target 300 ms")})
	return nil
}

// timeKPIs runs every catalogue KPI cfg.queryRuns times and returns the
// latencies of all runs.
func (b *bencher) timeKPIs(ctx context.Context, eng *queries.Engine) ([]time.Duration, error) {
	from := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	var out []time.Duration
	for range b.cfg.queryRuns {
		for _, k := range queries.Catalogue() {
			req := queries.Request{KPI: k.Name, From: from, To: from.AddDate(0, 0, 30),
				Window: queries.WindowDay, Filters: map[string]string{"tenant": "t3"}}
			if contains(k.Dimensions, "campaign") {
				req.GroupBy = []string{"campaign"}
			}
			start := time.Now()
			if _, err := eng.Run(ctx, req); err != nil {
				return nil, fmt.Errorf("kpi %s: %w", k.Name, err)
			}
			out = append(out, time.Since(start))
		}
	}
	return out, nil
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

// fillQueryDB writes the synthetic events straight into ClickHouse: the
// query phase measures reading, so it need not wait for the pipeline.
func (b *bencher) fillQueryDB(ctx context.Context) error {
	if err := projections.Migrate(ctx, b.wh, queryDB); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const chunk = 100000
	rows := make([][]any, 0, chunk)
	start := time.Now()
	for i := 0; i < b.cfg.queryEvents; i++ {
		rows = append(rows, projections.Row(syntheticEvent(rng, i), uint64(i+1), 0))
		if len(rows) == chunk || i == b.cfg.queryEvents-1 {
			err := b.wh.Insert(ctx, projections.EventsTable(queryDB), projections.Columns(), rows)
			if err != nil {
				return err
			}
			rows = rows[:0]
			fmt.Fprintf(os.Stderr, "\r  storing query data: %s of %s", human(i+1),
				human(b.cfg.queryEvents))
		}
	}
	fmt.Fprintf(os.Stderr, " in %s\n", time.Since(start).Round(time.Second))
	return nil
}

var adTypes = []events.Type{events.TypeImpression, events.TypeImpression, events.TypeClick,
	events.TypeConversion, events.TypeCost}

func syntheticEvent(rng *rand.Rand, i int) events.Event {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(90*24*3600)) * time.Second)
	tenant, campaign, ad := i%10, rng.IntN(20), rng.IntN(10)
	e := events.Event{ID: fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i),
		Tenant: fmt.Sprintf("t%d", tenant), OccurredAt: at, ReceivedAt: at,
		Campaign: fmt.Sprintf("c%d", campaign), Ad: fmt.Sprintf("c%d-a%d", campaign, ad),
		Channel: []string{"search", "social", "display"}[campaign%3], Currency: "USD"}
	if i%100 == 99 {
		e.Type, e.Customer, e.Subscription = events.TypeSubscriptionStarted,
			fmt.Sprintf("cust-%d", i), fmt.Sprintf("sub-%d", i)
		e.Amount, e.Interval = events.Micros(rng.Int64N(200)+10)*1e6, "month"
		return e
	}
	e.Type = adTypes[rng.IntN(len(adTypes))]
	e.Count = 1 + rng.Int64N(100)
	switch e.Type {
	case events.TypeCost:
		e.Amount = events.Micros(rng.Int64N(50_000_000))
	case events.TypeConversion:
		e.Value = events.Micros(rng.Int64N(200_000_000))
	default:
		e.Currency = ""
	}
	return e
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
