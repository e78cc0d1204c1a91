package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/projections"
)

// Names of the anchors the pipeline's rates are compared with.
const (
	rawPublish = "raw JetStream publish (msg id, 200 B)"
	rawSynced  = "raw JetStream publish, fsync every write"
	rawInsert  = "raw ClickHouse insert (RowBinary)"
	kpiIngest  = "kpi ingest (HTTP to JetStream ack)"
	kpiProject = "kpi projection (stream to ClickHouse)"
	kpiE2E     = "kpi end to end (HTTP to queryable)"
)

// throughput measures the raw anchors, then kpi: ingest alone, the
// projector alone over what ingest stored, and both together end to end.
func (b *bencher) throughput(ctx context.Context) error {
	for _, step := range []func(context.Context) (benchResult, error){
		b.rawPublish, b.rawPublishSynced, b.rawInsert, b.ingestOnly, b.projectOnly, b.endToEnd,
	} {
		r, err := step(ctx)
		if err != nil {
			return err
		}
		b.addRate(r)
	}
	return nil
}

// rawPublish is the broker's own limit: async publishes of 200-byte
// messages, one per event, each with a Nats-Msg-Id, to a file-backed stream
// on a separate embedded server with the default fsync interval.
func (b *bencher) rawPublish(ctx context.Context) (benchResult, error) {
	return b.publishRaw(ctx, rawPublish, false, b.cfg.events)
}

// rawPublishSynced is the same with an fsync after every write, the price
// of surviving a power cut (--nats-sync-always); a tenth of the messages
// keeps it short.
func (b *bencher) rawPublishSynced(ctx context.Context) (benchResult, error) {
	return b.publishRaw(ctx, rawSynced, true, max(1000, b.cfg.events/10))
}

func (b *bencher) publishRaw(ctx context.Context, name string, syncAlways bool, n int) (
	benchResult, error) {
	ns, err := broker.StartEmbedded(broker.EmbeddedConfig{SyncAlways: syncAlways,
		StoreDir: filepath.Join(b.cfg.dir, "raw-nats-"+fmt.Sprint(syncAlways))})
	if err != nil {
		return benchResult{}, err
	}
	defer ns.Shutdown()
	nc, js, err := broker.Connect(broker.ClientConfig{URL: ns.ClientURL(), Name: "bench-raw"})
	if err != nil {
		return benchResult{}, err
	}
	defer nc.Close()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"},
		Storage: jetstream.FileStorage, Duplicates: broker.DefaultDuplicateWindow})
	if err != nil {
		return benchResult{}, err
	}
	payload := bytes.Repeat([]byte("x"), 200)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	start := time.Now()
	for i := range n {
		m := &nats.Msg{Subject: "raw.events", Data: payload,
			Header: nats.Header{jetstream.MsgIDHeader: []string{ids[i]}}}
		if err := publishAsync(ctx, js, m); err != nil {
			return benchResult{}, fmt.Errorf("raw publish %d: %w", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return benchResult{}, ctx.Err()
	}
	return benchResult{name: name, n: n, took: time.Since(start), unit: "msg/s"}, nil
}

// rawInsert is the engine's own limit: rows of the events table inserted
// as RowBinary in batches of 100k into a scratch database.
func (b *bencher) rawInsert(ctx context.Context) (benchResult, error) {
	if err := projections.Migrate(ctx, b.wh, "bench_raw"); err != nil {
		return benchResult{}, err
	}
	const batch = 100000
	rows := make([][]any, 0, batch)
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var took time.Duration
	for i := 0; i < b.cfg.events; {
		rows = rows[:0]
		for ; len(rows) < batch && i < b.cfg.events; i++ {
			rows = append(rows, projections.BenchRow(i, at))
		}
		start := time.Now()
		err := b.wh.Insert(ctx, projections.EventsTable("bench_raw"), projections.Columns(), rows)
		if err != nil {
			return benchResult{}, err
		}
		took += time.Since(start)
	}
	return benchResult{name: rawInsert, n: b.cfg.events, took: took, unit: "rows/s"}, nil
}

func (b *bencher) ingestOnly(ctx context.Context) (benchResult, error) {
	took, err := b.post(ctx, b.cfg.events, "bench")
	return benchResult{name: kpiIngest, n: b.cfg.events, took: took, unit: "events/s"}, err
}

func (b *bencher) projectOnly(ctx context.Context) (benchResult, error) {
	start := time.Now()
	err := b.app.Projector.CatchUp(ctx, nil)
	return benchResult{name: kpiProject, n: b.cfg.events, took: time.Since(start),
		unit: "rows/s"}, err
}

// endToEnd runs the projector in the background from here on, and times
// events from the first HTTP request until all are queryable.
func (b *bencher) endToEnd(ctx context.Context) (benchResult, error) {
	b.projectInBackground()
	start := time.Now()
	if _, err := b.post(ctx, b.cfg.events, "bench"); err != nil {
		return benchResult{}, err
	}
	if err := b.app.Projector.WaitIdle(ctx); err != nil {
		return benchResult{}, err
	}
	return benchResult{name: kpiE2E, n: b.cfg.events, took: time.Since(start), unit: "events/s"}, nil
}

// bgCtx is cancelled when the bench ends; the projector runs under it.
func (b *bencher) bgCtx() context.Context {
	if b.bg == nil {
		ctx, cancel := context.WithCancel(context.Background())
		b.bg, b.bgCancel = ctx, cancel
	}
	return b.bg
}

// post sends n click events from cfg.clients concurrent clients in NDJSON
// requests of cfg.batch events, and returns how long until all were acked.
func (b *bencher) post(ctx context.Context, n int, tenant string) (time.Duration, error) {
	bodies := make(chan []byte, b.cfg.clients)
	g, gctx := errgroup.WithContext(ctx)
	first := b.sent
	b.sent += n
	g.Go(func() error {
		defer close(bodies)
		for i := 0; i < n; i += b.cfg.batch {
			body := benchBody(first+i, min(b.cfg.batch, n-i), tenant, "")
			select {
			case bodies <- body:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	start := time.Now()
	for range b.cfg.clients {
		g.Go(func() error {
			for body := range bodies {
				if err := postBody(gctx, b.base, body); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

func postBody(ctx context.Context, base string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/events",
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("bench post: %s", resp.Status)
	}
	return nil
}

// benchBody builds n click events numbered from first; campaign, when set,
// overrides the spread of campaigns (the freshness phase tags batches).
func benchBody(first, n int, tenant, campaign string) []byte {
	var b bytes.Buffer
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		c := campaign
		if c == "" {
			c = fmt.Sprintf("campaign-%d", i%50)
		}
		fmt.Fprintf(&b, `{"id":"%s","type":"click","tenant":"%s-%d","occurred_at":"%s",`+
			`"campaign":"%s","ad":"ad-%d","channel":"search"}`+"\n",
			uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "bench-%d", i)), tenant, i%10,
			at.Add(time.Duration(i%2_000_000)*time.Second).Format(time.RFC3339), c, i%500)
	}
	return b.Bytes()
}

// publishAsync publishes without waiting for the ack, waiting instead for
// room when the client's window of unacknowledged messages is full.
func publishAsync(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
	for {
		_, err := js.PublishMsgAsync(m)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
