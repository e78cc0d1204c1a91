package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
)

// benchConfig sizes one `kpi bench` run.
type benchConfig struct {
	events, clients, batch int
	dir                    string
	phases                 map[string]bool
	freshFor, soakFor      time.Duration
	queryEvents, queryRuns int
}

// benchRow is one line of the report.
type benchRow struct {
	measure string
	value   float64
	unit    string
	ratio   string
}

// benchResult is one measured rate.
type benchResult struct {
	name string
	n    int
	took time.Duration
	unit string
}

func (r benchResult) rate() float64 { return float64(r.n) / r.took.Seconds() }

// runBench measures, in one process and one run, the raw anchors (JetStream
// publish with message ids, a RowBinary insert into the embedded engine) and
// kpi's own pipeline, freshness, query latency and a memory soak, and prints
// them side by side as ratios: absolute numbers drift between runs on shared
// machines, ratios within a run do not.
func runBench(ctx context.Context, args []string) error {
	bc, cpuProfile, err := parseBenchFlags(args)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if bc.dir == "" {
		d, err := os.MkdirTemp("", "kpi-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		bc.dir = d
	}
	wh, err := chdb.Open(chdb.Config{Path: filepath.Join(bc.dir, "clickhouse")})
	if err != nil {
		return err
	}
	defer wh.Close()
	fmt.Fprintf(os.Stderr, "kpi bench: %d events per phase, %d clients, %d CPUs\n",
		bc.events, bc.clients, runtime.NumCPU())
	b := &bencher{cfg: bc, wh: wh}
	defer b.close()
	if err := b.run(ctx); err != nil {
		return err
	}
	b.print(os.Stdout)
	return nil
}

func parseBenchFlags(args []string) (benchConfig, string, error) {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	var bc benchConfig
	fs.IntVar(&bc.events, "events", 200000, "events per throughput phase")
	fs.IntVar(&bc.clients, "clients", 4, "concurrent HTTP clients")
	fs.IntVar(&bc.batch, "batch", 1000, "events per HTTP request")
	fs.StringVar(&bc.dir, "dir", "", "work directory (default: a temporary one, removed after)")
	phases := fs.String("phases", "throughput,freshness,queries",
		"comma-separated: throughput, freshness, queries, soak")
	fs.DurationVar(&bc.freshFor, "freshness-for", 10*time.Second, "length of the freshness run")
	fs.DurationVar(&bc.soakFor, "soak-for", 10*time.Minute, "length of the soak run")
	fs.IntVar(&bc.queryEvents, "query-events", 2_000_000, "events stored for the query phase")
	fs.IntVar(&bc.queryRuns, "query-runs", 20, "runs of each query for its percentiles")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	_ = fs.Parse(args)
	bc.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		switch p = strings.TrimSpace(p); p {
		case "throughput", "freshness", "queries", "soak":
			bc.phases[p] = true
		default:
			return bc, "", fmt.Errorf("unknown phase %q", p)
		}
	}
	return bc, *cpuProfile, nil
}

// bencher runs the phases against one embedded kpi and collects the rows.
type bencher struct {
	cfg  benchConfig
	wh   warehouse.Conn
	app  *app.App
	base string
	stop func()
	rows []benchRow
	// perKPI, once the query phase ran, prints its table per KPI.
	perKPI func(io.Writer)
	// rates measured so far, by name, for ratios and for pacing.
	rates map[string]float64
	sent  int // events posted so far (ids stay unique across phases)
	// bg outlives phases: the background projector runs under it.
	bg         context.Context
	bgCancel   context.CancelFunc
	projecting bool
}

func (b *bencher) add(r benchRow) {
	b.rows = append(b.rows, r)
	fmt.Fprintf(os.Stderr, "  %-46s %14.1f %s\n", r.measure, r.value, r.unit)
}

func (b *bencher) addRate(r benchResult) {
	if b.rates == nil {
		b.rates = map[string]float64{}
	}
	b.rates[r.name] = r.rate()
	b.add(benchRow{measure: r.name, value: r.rate(), unit: r.unit})
}

func (b *bencher) run(ctx context.Context) error {
	if err := b.start(ctx); err != nil {
		return err
	}
	steps := []struct {
		phase string
		fn    func(context.Context) error
	}{
		{"throughput", b.throughput}, {"freshness", b.freshness},
		{"queries", b.queries}, {"soak", b.soak},
	}
	for _, s := range steps {
		if !b.cfg.phases[s.phase] {
			continue
		}
		fmt.Fprintf(os.Stderr, "phase %s\n", s.phase)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("bench %s: %w", s.phase, err)
		}
	}
	return nil
}

// start runs kpi (ingest and query roles; the projector is driven by the
// phases) on the embedded default inside this process.
func (b *bencher) start(ctx context.Context) error {
	cfg := app.Config{DataDir: b.cfg.dir, Database: "bench", Warehouse: b.wh,
		Addr: "127.0.0.1:0", Ingest: true, Query: true}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	b.app, b.base = a, "http://"+a.Addr()
	b.stop = func() { cancel(); <-done }
	return nil
}

func (b *bencher) close() {
	if b.bgCancel != nil {
		b.bgCancel()
	}
	if b.stop != nil {
		b.stop()
	}
}

// print writes the report: each rate next to the raw anchor it compares to.
func (b *bencher) print(w io.Writer) {
	pub := b.rates[rawPublish]
	ins := b.rates[rawInsert]
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tvalue\tunit\tratio")
	for _, r := range b.rows {
		ratio := r.ratio
		switch {
		case ratio != "":
		case (r.unit == "events/s" || r.measure == rawSynced) && pub > 0:
			ratio = fmt.Sprintf("%.2fx raw publish", r.value/pub)
		case r.unit == "rows/s" && r.measure != rawInsert && ins > 0:
			ratio = fmt.Sprintf("%.2fx raw insert", r.value/ins)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\n", r.measure, r.value, r.unit, ratio)
	}
	_ = tw.Flush()
	if b.perKPI != nil {
		b.perKPI(w)
	}
}
