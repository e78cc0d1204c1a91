package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
	"github.com/kpi-analytics/kpi/projections"
)

// benchConfig sizes one `kpi bench` run.
type benchConfig struct {
	events, clients, batch int
	dir                    string
}

// benchResult is one measured rate.
type benchResult struct {
	name  string
	n     int
	took  time.Duration
	unit  string
	notes string
}

func (r benchResult) rate() float64 { return float64(r.n) / r.took.Seconds() }

// runBench measures, in one process and one run, the raw anchors (JetStream
// publish with message ids, a RowBinary insert into the embedded engine) and
// kpi's own pipeline, and prints their rates side by side as ratios: absolute
// numbers drift between runs on shared machines, ratios within a run do not.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	var bc benchConfig
	fs.IntVar(&bc.events, "events", 200000, "events per phase")
	fs.IntVar(&bc.clients, "clients", 4, "concurrent HTTP clients")
	fs.IntVar(&bc.batch, "batch", 1000, "events per HTTP request")
	fs.StringVar(&bc.dir, "dir", "", "work directory (default: a temporary one, removed after)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	_ = fs.Parse(args)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
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
	var results []benchResult
	steps := []func(context.Context, benchConfig, warehouse.Conn) ([]benchResult, error){
		benchRawPublish, benchRawInsert, benchPipeline,
	}
	for _, step := range steps {
		rs, err := step(ctx, bc, wh)
		if err != nil {
			return err
		}
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "  %-40s %12.0f %s\n", r.name, r.rate(), r.unit)
		}
		results = append(results, rs...)
	}
	printBench(results)
	return nil
}

// benchRawPublish is the broker's own limit: async publishes of 200-byte
// messages, one per event, each with a Nats-Msg-Id, to a file-backed stream.
func benchRawPublish(ctx context.Context, bc benchConfig, _ warehouse.Conn) ([]benchResult, error) {
	ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: filepath.Join(bc.dir, "raw-nats")})
	if err != nil {
		return nil, err
	}
	defer ns.Shutdown()
	nc, js, err := broker.Connect(broker.ClientConfig{URL: ns.ClientURL(), Name: "bench-raw"})
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"},
		Storage: jetstream.FileStorage, Duplicates: broker.DefaultDuplicateWindow})
	if err != nil {
		return nil, err
	}
	payload := bytes.Repeat([]byte("x"), 200)
	start := time.Now()
	for i := range bc.events {
		m := &nats.Msg{Subject: "raw.events", Data: payload,
			Header: nats.Header{jetstream.MsgIDHeader: []string{uuid.NewString()}}}
		if _, err := js.PublishMsgAsync(m); err != nil {
			return nil, fmt.Errorf("raw publish %d: %w", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []benchResult{{name: "raw JetStream publish (msg id)", n: bc.events,
		took: time.Since(start), unit: "msg/s"}}, nil
}

// benchRawInsert is the engine's own limit: the events table's columns
// inserted as RowBinary in batches of 100k.
func benchRawInsert(ctx context.Context, bc benchConfig, wh warehouse.Conn) ([]benchResult, error) {
	if err := projections.Migrate(ctx, wh, "bench_raw"); err != nil {
		return nil, err
	}
	const batch = 100000
	rows := make([][]any, 0, batch)
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var took time.Duration
	for i := 0; i < bc.events; {
		rows = rows[:0]
		for ; len(rows) < batch && i < bc.events; i++ {
			rows = append(rows, projections.BenchRow(i, at))
		}
		start := time.Now()
		if err := wh.Insert(ctx, projections.EventsTable("bench_raw"), projections.Columns(), rows); err != nil {
			return nil, err
		}
		took += time.Since(start)
	}
	return []benchResult{{name: "raw ClickHouse insert (RowBinary)", n: bc.events, took: took,
		unit: "rows/s"}}, nil
}

// benchPipeline runs kpi itself: first ingest only (HTTP NDJSON from
// concurrent clients, acknowledged once durable in JetStream), then the
// projector alone over the stored stream, then both together end to end.
func benchPipeline(ctx context.Context, bc benchConfig, wh warehouse.Conn) ([]benchResult, error) {
	cfg := app.Config{DataDir: bc.dir, Database: "bench", Warehouse: wh, Addr: "127.0.0.1:0",
		Ingest: true, Query: true}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { stop(); <-done }()
	base := "http://" + a.Addr()

	ingestTook, err := postEvents(ctx, base, bc, 0)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := a.Projector.CatchUp(ctx, nil); err != nil {
		return nil, err
	}
	projTook := time.Since(start)

	go func() { _ = a.Projector.Run(runCtx) }()
	start = time.Now()
	if _, err := postEvents(ctx, base, bc, bc.events); err != nil {
		return nil, err
	}
	if err := a.Projector.WaitIdle(ctx); err != nil {
		return nil, err
	}
	e2eTook := time.Since(start)
	return []benchResult{
		{name: "kpi ingest (HTTP to JetStream ack)", n: bc.events, took: ingestTook, unit: "events/s"},
		{name: "kpi projection (stream to ClickHouse)", n: bc.events, took: projTook, unit: "rows/s"},
		{name: "kpi end to end (HTTP to queryable)", n: bc.events, took: e2eTook, unit: "events/s"},
	}, nil
}

// postEvents sends bc.events click events from bc.clients concurrent
// clients in NDJSON requests of bc.batch events; offset keeps ids unique.
func postEvents(ctx context.Context, base string, bc benchConfig, offset int) (time.Duration, error) {
	bodies := make(chan []byte, bc.clients)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(bodies)
		for i := 0; i < bc.events; i += bc.batch {
			select {
			case bodies <- benchBody(offset+i, min(bc.batch, bc.events-i)):
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	start := time.Now()
	var mu sync.Mutex
	for range bc.clients {
		g.Go(func() error {
			for b := range bodies {
				resp, err := http.Post(base+"/v1/events", "application/x-ndjson", bytes.NewReader(b))
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					mu.Lock()
					defer mu.Unlock()
					return fmt.Errorf("bench post: %s", resp.Status)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

func benchBody(from, n int) []byte {
	var b bytes.Buffer
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `{"id":"%s","type":"click","tenant":"bench-%d","occurred_at":"%s",`+
			`"campaign":"campaign-%d","ad":"ad-%d","channel":"search"}`+"\n",
			uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "bench-%d", i)), i%10,
			at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%50, i%500)
	}
	return b.Bytes()
}

func printBench(rs []benchResult) {
	byName := map[string]float64{}
	for _, r := range rs {
		byName[r.name] = r.rate()
	}
	pub := byName["raw JetStream publish (msg id)"]
	ins := byName["raw ClickHouse insert (RowBinary)"]
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\trate\tunit\tratio\tto")
	for _, r := range rs {
		ratio, to := "", ""
		switch r.unit {
		case "events/s":
			ratio, to = fmt.Sprintf("%.2fx", r.rate()/pub), "raw publish"
		case "rows/s":
			if r.name != "raw ClickHouse insert (RowBinary)" {
				ratio, to = fmt.Sprintf("%.2fx", r.rate()/ins), "raw insert"
			}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\n", r.name, r.rate(), r.unit, ratio, to)
	}
	_ = tw.Flush()
}
