package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// freshness posts events at half the measured end-to-end rate in batches
// every 100 ms, each batch under its own campaign, and polls ClickHouse for
// when each batch becomes visible: the lag a dashboard would see.
func (b *bencher) freshness(ctx context.Context) error {
	b.projectInBackground()
	rate := b.halfRate()
	lat, sent, err := b.paced(ctx, rate, b.cfg.freshFor, "fresh")
	if err != nil {
		return err
	}
	b.add(benchRow{measure: "freshness load (half of end-to-end rate)",
		value: float64(sent) / b.cfg.freshFor.Seconds(), unit: "events/s"})
	b.add(benchRow{measure: "freshness p50 (ack to queryable)", value: ms(pct(lat, 50)), unit: "ms"})
	b.add(benchRow{measure: "freshness p99 (ack to queryable)", value: ms(pct(lat, 99)), unit: "ms",
		ratio: target(pct(lat, 99) <= 2*time.Second, "target 2000 ms")})
	return nil
}

func (b *bencher) projectInBackground() {
	if b.projecting {
		return
	}
	b.projecting = true
	go func() { _ = b.app.Projector.Run(b.bgCtx()) }()
}

// halfRate is half the end-to-end rate measured in this run, or a modest
// default when the throughput phase was skipped.
func (b *bencher) halfRate() float64 {
	if r := b.rates[kpiE2E]; r > 0 {
		return r / 2
	}
	return 20000
}

// paced posts at rate events/s for d, one batch per 100 ms tagged with its
// own campaign, and returns each batch's ack-to-visible latency.
func (b *bencher) paced(ctx context.Context, rate float64, d time.Duration, tenant string) (
	[]time.Duration, int, error) {
	per := max(1, int(rate/10))
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	var mu sync.Mutex
	acked := map[string]time.Time{}
	sizes := map[string]int{}
	seen := map[string]time.Duration{}
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan error, 1)
	go func() { polled <- b.poll(pollCtx, tenant, &mu, acked, sizes, seen) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		campaign := fmt.Sprintf("f-%s-%d", run, len(sizes))
		body := benchBody(b.sent, per, tenant, campaign)
		b.sent += per
		if err := postBody(ctx, b.base, body); err != nil {
			stopPoll()
			return nil, sent, err
		}
		mu.Lock()
		acked[campaign], sizes[campaign] = time.Now(), per*1
		mu.Unlock()
		sent += per
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(seen) == len(sizes)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopPoll()
	<-polled
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(sizes) {
		return nil, sent, fmt.Errorf("%d of %d batches never became visible", len(sizes)-len(seen),
			len(sizes))
	}
	lat := make([]time.Duration, 0, len(seen))
	for _, l := range seen {
		lat = append(lat, l)
	}
	return lat, sent, nil
}

// poll reads per-campaign click counts of the tenant every 50 ms and notes
// when each posted batch is complete in ClickHouse.
func (b *bencher) poll(ctx context.Context, tenant string, mu *sync.Mutex,
	acked map[string]time.Time, sizes map[string]int, seen map[string]time.Duration) error {
	q := `SELECT campaign, toInt64(sum(count)) FROM bench.events
WHERE tenant LIKE {t:String} AND type = 'click' GROUP BY campaign`
	for ctx.Err() == nil {
		res, err := b.wh.Query(ctx, q, map[string]string{"t": tenant + "-%"})
		now := time.Now()
		if err == nil {
			mu.Lock()
			for _, r := range res.Rows {
				c := r[0].(string)
				if _, done := seen[c]; !done && sizes[c] > 0 && r[1].(int64) >= int64(sizes[c]) {
					seen[c] = now.Sub(acked[c])
				}
			}
			mu.Unlock()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// soak ingests at half the measured rate for the configured time and reports
// resident memory after warm-up and at the end, the lag left, and whether
// every event arrived.
func (b *bencher) soak(ctx context.Context) error {
	b.projectInBackground()
	rate := b.halfRate()
	warm := b.cfg.soakFor / 10
	fmt.Fprintf(os.Stderr, "  soak: %.0f events/s for %s (warm-up %s)\n", rate, b.cfg.soakFor, warm)
	var rssWarm, rssPeak float64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Second):
			}
			r := rssMiB()
			if time.Since(start) >= warm && rssWarm == 0 {
				rssWarm = r
			}
			rssPeak = max(rssPeak, r)
		}
	}()
	_, sent, err := b.paced(ctx, rate, b.cfg.soakFor, "soak")
	close(stop)
	<-sampled
	if err != nil {
		return err
	}
	lag, _ := b.app.Projector.Pending(ctx)
	rssEnd := rssMiB()
	arrived, err := b.count(ctx, "soak")
	if err != nil {
		return err
	}
	growth := (rssEnd - rssWarm) / rssWarm * 100
	b.add(benchRow{measure: "soak rate", value: float64(sent) / b.cfg.soakFor.Seconds(),
		unit: "events/s"})
	b.add(benchRow{measure: "soak RSS after warm-up", value: rssWarm, unit: "MiB"})
	b.add(benchRow{measure: "soak RSS at end", value: rssEnd, unit: "MiB",
		ratio: target(growth <= 10, fmt.Sprintf("%+.1f %% (target within 10 %%)", growth))})
	b.add(benchRow{measure: "soak RSS peak", value: rssPeak, unit: "MiB"})
	b.add(benchRow{measure: "soak lag at end", value: float64(lag), unit: "messages"})
	b.add(benchRow{measure: "soak events arrived", value: float64(arrived), unit: "events",
		ratio: target(arrived == int64(sent), fmt.Sprintf("of %d sent", sent))})
	return nil
}

func (b *bencher) count(ctx context.Context, tenant string) (int64, error) {
	res, err := b.wh.Query(ctx, `SELECT toInt64(count()) FROM bench.events WHERE tenant LIKE {t:String}`,
		map[string]string{"t": tenant + "-%"})
	if err != nil {
		return 0, err
	}
	return res.Rows[0][0].(int64), nil
}

// rssMiB reads this process's resident set size from /proc.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func target(met bool, what string) string {
	if met {
		return "met: " + what
	}
	return "MISSED: " + what
}
