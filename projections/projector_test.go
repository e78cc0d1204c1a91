package projections_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/broker/brokertest"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb/chdbtest"
	"github.com/kpi-analytics/kpi/projections"
)

// fixture is a real JetStream (embedded, on disk, loopback) and a fresh
// database in the shared embedded ClickHouse engine.
type fixture struct {
	js jetstream.JetStream
	wh warehouse.Conn
	db string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	wh := chdbtest.Shared(t)
	_, js := brokertest.Start(t)
	db := chdbtest.Database(t)
	if err := projections.Migrate(context.Background(), wh, db); err != nil {
		t.Fatal(err)
	}
	return &fixture{js: js, wh: wh, db: db}
}

// publish stores n click events, spread over three months so that a batch
// spans several partitions.
func (f *fixture) publish(t *testing.T, n int) {
	t.Helper()
	f.publishOpts(t, n, true)
}

// publishOpts publishes like publish; without brokerDedup the messages carry
// no Nats-Msg-Id, as when a producer resends events in a new composition.
func (f *fixture) publishOpts(t *testing.T, n int, brokerDedup bool) {
	t.Helper()
	for i := range n {
		e := events.Event{ID: fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", i), Type: events.TypeClick,
			Tenant: "acme", Campaign: "c", Count: 1,
			OccurredAt: time.Date(2024, time.Month(1+i%3), 1+i%28, 0, 0, 0, 0, time.UTC),
			ReceivedAt: time.Now().UTC().Truncate(time.Millisecond)}
		data, err := events.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var opts []jetstream.PublishOpt
		if brokerDedup {
			opts = append(opts, jetstream.WithMsgID(e.ID))
		}
		if _, err := f.js.Publish(context.Background(), broker.EventSubject("acme", "click"), data,
			opts...); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) projector(t *testing.T, wh warehouse.Conn, batch int) *projections.Projector {
	t.Helper()
	p, err := projections.New(projections.Config{JetStream: f.js, Warehouse: wh, Database: f.db,
		BatchSize: batch, MaxWait: 50 * time.Millisecond, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) count(t *testing.T) (rows, clicks int64) {
	t.Helper()
	res, err := f.wh.Query(context.Background(),
		fmt.Sprintf("SELECT count(), sum(count) FROM %s", projections.EventsTable(f.db)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(int64), res.Rows[0][1].(int64)
}

func catchUp(t *testing.T, p *projections.Projector) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCrashAfterPartialWrite: a projector fetched a batch, half of its rows
// reached ClickHouse, and it died before acknowledging. The redelivery comes
// in differently sized batches; every event must be counted once.
func TestCrashAfterPartialWrite(t *testing.T) {
	f := newFixture(t)
	f.publish(t, 300)
	crashed := f.projector(t, f.wh, 120)
	cons, err := crashed.Consumer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(120, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for m := range batch.Messages() {
		meta, _ := m.Metadata()
		evs, err := projections.DecodeMessage(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, projections.Row(evs[0], meta.Sequence.Stream, 0))
	}
	if len(rows) != 120 {
		t.Fatalf("fetched %d, want 120", len(rows))
	}
	half := rows[:45] // the parts of some partitions landed, then the process died
	if err := f.wh.Insert(context.Background(), projections.EventsTable(f.db),
		projections.Columns(), half); err != nil {
		t.Fatal(err)
	}

	time.Sleep(1100 * time.Millisecond) // let the ack wait expire
	catchUp(t, f.projector(t, f.wh, 7))
	if n, c := f.count(t); n != 300 || c != 300 {
		t.Fatalf("rows, clicks = %d, %d; want 300, 300", n, c)
	}
}

// flaky fails the first failures writes (inserts and reads alike), like a
// ClickHouse that is briefly unreachable.
type flaky struct {
	warehouse.Conn
	failures atomic.Int64
}

var errInjected = errors.New("injected: clickhouse unreachable")

func (f *flaky) Insert(ctx context.Context, table string, cols []warehouse.Column, rows [][]any) error {
	if f.failures.Add(-1) >= 0 {
		return errInjected
	}
	return f.Conn.Insert(ctx, table, cols, rows)
}

func (f *flaky) Query(ctx context.Context, q string, p warehouse.Params) (*warehouse.Result, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errInjected
	}
	return f.Conn.Query(ctx, q, p)
}

func TestWriteFailuresAreRetried(t *testing.T) {
	f := newFixture(t)
	f.publish(t, 200)
	fw := &flaky{Conn: f.wh}
	fw.failures.Store(4)
	p := f.projector(t, fw, 50)
	catchUp(t, p)
	if n, c := f.count(t); n != 200 || c != 200 {
		t.Fatalf("rows, clicks = %d, %d; want 200, 200", n, c)
	}
	if st := p.Stats(); st.WriteErrors != 4 {
		t.Errorf("write errors = %d, want 4", st.WriteErrors)
	}
}

func TestPoisonMessageIsDeadLettered(t *testing.T) {
	f := newFixture(t)
	f.publish(t, 10)
	ctx := context.Background()
	if _, err := f.js.Publish(ctx, broker.EventSubject("acme", "click"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	p := f.projector(t, f.wh, 100)
	catchUp(t, p)
	if n, _ := f.count(t); n != 10 {
		t.Fatalf("rows = %d, want 10", n)
	}
	if st := p.Stats(); st.DeadLettered != 1 {
		t.Errorf("dead-lettered = %d, want 1", st.DeadLettered)
	}
	dlq, err := f.js.Stream(ctx, broker.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := dlq.GetLastMsgForSubject(ctx, broker.DeadLetterPrefix+">")
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data) != "{not json" || msg.Header.Get(projections.HeaderDeadReason) == "" ||
		msg.Header.Get(projections.HeaderOriginSeq) != "11" {
		t.Errorf("dead letter = %q headers %v", msg.Data, msg.Header)
	}
}

func TestReplayRebuildsExactly(t *testing.T) {
	f := newFixture(t)
	f.publish(t, 150)
	p := f.projector(t, f.wh, 40)
	catchUp(t, p)
	if err := p.Replay(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n, c := f.count(t); n != 150 || c != 150 {
		t.Fatalf("after replay rows, clicks = %d, %d; want 150, 150", n, c)
	}
}

// TestRepeatedIDInOtherMessageCountsOnce: a producer resent an event inside a
// differently composed batch, so the broker saw a new message; the projector
// still counts the event once, whether the repeat lands in the same batch or
// a later one.
func TestRepeatedIDInOtherMessageCountsOnce(t *testing.T) {
	f := newFixture(t)
	f.publish(t, 5) // ids 0..4, one message each
	p := f.projector(t, f.wh, 100)
	catchUp(t, p)
	f.publishOpts(t, 8, false) // ids 0..7 again: 0..4 repeat across batches
	f.publishOpts(t, 8, false) // and all repeat within one batch
	catchUp(t, p)
	if n, c := f.count(t); n != 8 || c != 8 {
		t.Fatalf("rows, clicks = %d, %d; want 8, 8", n, c)
	}
}

// TestSameIDInAnotherTenantOrTypeIsAnotherEvent: an event is its id
// together with its tenant, type and occurred_at, so another tenant sending
// the same id (predictable ids are common) neither hides nor is hidden by
// it, in one batch or across batches.
func TestSameIDInAnotherTenantOrTypeIsAnotherEvent(t *testing.T) {
	f := newFixture(t)
	const id = "0195f5c3-2b1e-7a1e-9f00-000000000001"
	send := func(tenant string, typ events.Type, count int64) {
		t.Helper()
		e := events.Event{ID: id, Type: typ, Tenant: tenant, Campaign: "c", Count: count,
			OccurredAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
			ReceivedAt: time.Now().UTC().Truncate(time.Millisecond)}
		data, err := events.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.js.Publish(context.Background(), broker.EventSubject(tenant, string(typ)),
			data); err != nil {
			t.Fatal(err)
		}
	}
	p := f.projector(t, f.wh, 100)
	send("r1", events.TypeClick, 1)
	catchUp(t, p)
	send("r2", events.TypeClick, 500)     // another tenant, a later batch
	send("r3", events.TypeClick, 20)      // and two more in one batch
	send("r3", events.TypeImpression, 30) // another type
	send("r3", events.TypeClick, 20)      // a true repeat
	catchUp(t, p)
	if n, c := f.count(t); n != 4 || c != 551 {
		t.Fatalf("rows, counts = %d, %d; want 4, 551", n, c)
	}
}
