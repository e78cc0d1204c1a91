// Package projections turns the event stream into ClickHouse tables. A
// projector reads the events stream through a durable JetStream consumer in
// batches, writes each batch to the raw events table, and acknowledges the
// messages only once ClickHouse has them.
//
// Exactly-once counting rests on the event id, not on the batch: before
// writing, the projector asks the table which ids of the batch it already
// holds (looking only among rows of the batch's tenants, types and
// occurred_at range, which the sort key makes a narrow read) and writes the
// rest. A batch that is redelivered after a crash, whatever messages it now
// holds, a write that half-landed across partitions, a producer's resend
// that reached the stream twice, and a full replay therefore only add what is
// missing, and queries are exact without FINAL or merges. Nothing but the
// data itself marks an event as seen, so a failed write can never hide one.
// Aggregates are ClickHouse projections inside the same parts, so they are
// written atomically with the rows they sum.
//
// Messages are acknowledged one by one, so several projector processes may
// share the durable consumer; since a message holds up to a thousand events,
// that costs little.
package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// Defaults of Config.
const (
	DefaultDurable = "kpi-projector"
	// DefaultBatchBytes sizes a batch by the bytes of its messages (about
	// 25,000 events): a message may hold one event or a thousand. Fetches
	// much above 8 MiB were seen to stall the embedded server.
	DefaultBatchBytes = 6 << 20
	DefaultMaxWait    = 200 * time.Millisecond
	// DefaultAckWait is how long JetStream waits before redelivering an
	// unacknowledged batch; retries of a failing write extend it. It is
	// also how long events a killed projector had fetched stay invisible,
	// so it is short: a batch is written in well under a second.
	DefaultAckWait = 30 * time.Second
	maxBackoff     = 30 * time.Second
	slowBatch      = 2 * time.Second
)

// Headers set on dead-lettered messages.
const (
	HeaderDeadReason    = "Kpi-Dead-Reason"
	HeaderOriginSeq     = "Kpi-Origin-Seq"
	HeaderOriginSubject = "Kpi-Origin-Subject"
)

// Config wires a Projector.
type Config struct {
	JetStream jetstream.JetStream
	Warehouse warehouse.Conn
	Database  string
	Durable   string
	// FilterSubject narrows the durable to a subset of the stream, such as
	// kpi.events.acme.> for one tenant; empty means every event.
	FilterSubject string
	// BatchSize, when set, caps a batch at that many messages instead of
	// DefaultBatchBytes.
	BatchSize int
	MaxWait   time.Duration
	// AckWait is how long JetStream waits for an ack before redelivering.
	AckWait time.Duration
	// OnBatch, if set, is told the duration and row count of each batch.
	OnBatch func(d time.Duration, rows int)
	Logger  *slog.Logger
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.JetStream == nil:
		return errors.New("projections: config: jetstream is required")
	case c.Warehouse == nil:
		return errors.New("projections: config: warehouse is required")
	case !warehouse.ValidIdent(c.Database):
		return fmt.Errorf("projections: config: database %q is not a valid name", c.Database)
	}
	return nil
}

// Stats counts what a projector has done since it started.
type Stats struct {
	Batches, Projected, Duplicates, DeadLettered, WriteErrors int64
}

// Projector projects the events stream into the warehouse.
type Projector struct {
	cfg   Config
	log   *slog.Logger
	stats struct{ batches, projected, duplicates, dead, writeErrors atomic.Int64 }
}

// New checks cfg and fills in defaults.
func New(cfg Config) (*Projector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Durable == "" {
		cfg.Durable = DefaultDurable
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Projector{cfg: cfg, log: log.With("component", "projector", "durable", cfg.Durable)}, nil
}

// Stats returns a snapshot of the counters.
func (p *Projector) Stats() Stats {
	return Stats{Batches: p.stats.batches.Load(), Projected: p.stats.projected.Load(),
		Duplicates: p.stats.duplicates.Load(), DeadLettered: p.stats.dead.Load(),
		WriteErrors: p.stats.writeErrors.Load()}
}

// Consumer creates or updates the durable consumer and returns it.
func (p *Projector) Consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := p.cfg.JetStream.CreateOrUpdateConsumer(ctx, broker.EventsStream, jetstream.ConsumerConfig{
		Durable: p.cfg.Durable, AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckWait: p.cfg.AckWait,
		MaxAckPending: 20000,
		FilterSubject: p.cfg.FilterSubject, Description: "kpi projection into ClickHouse",
	})
	if err != nil {
		return nil, fmt.Errorf("projections: consumer %s: %w", p.cfg.Durable, err)
	}
	return c, nil
}

// Run projects until ctx is done. A batch in flight when ctx ends is
// finished (written and acknowledged) before Run returns.
func (p *Projector) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for backoff := 100 * time.Millisecond; cons == nil; backoff = next(backoff) {
		c, err := p.Consumer(ctx)
		if err == nil {
			cons = c
			break
		}
		p.log.WarnContext(ctx, "consumer not ready", "error", err, "retry_in", backoff.String())
		if !sleep(ctx, backoff) {
			return nil
		}
	}
	p.log.InfoContext(ctx, "projector started", "batch_messages", p.cfg.BatchSize,
		"database", p.cfg.Database, "backend", p.cfg.Warehouse.Backend())
	p.pump(ctx, cons, func() bool { return false })
	p.log.InfoContext(context.WithoutCancel(ctx), "projector stopped",
		"projected", p.stats.projected.Load())
	return nil
}

// pump fetches and decodes the next batch while the previous one is being
// written: decoding is Go work and writing is the engine's, so overlapping
// them uses both cores. It returns when ctx ends or done reports true, after
// writing every batch already fetched.
func (p *Projector) pump(ctx context.Context, cons jetstream.Consumer, done func() bool) {
	drain := context.WithoutCancel(ctx)
	ready := make(chan prepared, 1)
	go func() {
		defer close(ready)
		for ctx.Err() == nil && !done() {
			msgs, err := p.fetch(cons)
			if err != nil {
				p.log.WarnContext(ctx, "fetch failed", "error", err)
				sleep(ctx, time.Second)
			}
			if len(msgs) == 0 {
				continue
			}
			if b, ok := p.prepare(drain, msgs); ok {
				ready <- b
			}
		}
	}()
	for b := range ready {
		p.commit(drain, b)
	}
}

func (p *Projector) fetch(cons jetstream.Consumer) ([]jetstream.Msg, error) {
	var batch jetstream.MessageBatch
	var err error
	if p.cfg.BatchSize > 0 {
		batch, err = cons.Fetch(p.cfg.BatchSize, jetstream.FetchMaxWait(p.cfg.MaxWait))
	} else {
		batch, err = cons.FetchBytes(DefaultBatchBytes, jetstream.FetchMaxWait(p.cfg.MaxWait))
	}
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) &&
		!errors.Is(err, context.DeadlineExceeded) {
		return msgs, err
	}
	return msgs, nil
}

// prepared is a fetched batch, decoded and ready to write.
type prepared struct {
	msgs  []jetstream.Msg
	batch decoded
	start time.Time
}

// Project writes one batch of stream messages and acknowledges them. It
// retries a failing write with backoff until it succeeds or ctx ends; then
// the messages stay unacknowledged and JetStream redelivers them.
func (p *Projector) Project(ctx context.Context, msgs []jetstream.Msg) {
	if b, ok := p.prepare(ctx, msgs); ok {
		p.commit(ctx, b)
	}
}

func (p *Projector) prepare(ctx context.Context, msgs []jetstream.Msg) (prepared, bool) {
	start := time.Now()
	batch, ok := p.decode(ctx, msgs)
	return prepared{msgs: msgs, batch: batch, start: start}, ok
}

// commit writes the events of a prepared batch that the table lacks, then
// acknowledges the batch.
func (p *Projector) commit(ctx context.Context, b prepared) {
	fresh, err := p.retry(ctx, b.msgs, func() ([]stored, error) { return p.unseen(ctx, b.batch) })
	if err != nil {
		return
	}
	if _, err := p.retry(ctx, b.msgs, func() ([]stored, error) {
		return nil, p.write(ctx, fresh)
	}); err != nil {
		return
	}
	// Each message is acknowledged on its own. A cumulative ack (AckAll)
	// would also cover messages delivered to a crashed predecessor or lost
	// in flight during a reconnect, and those would never be redelivered:
	// the SIGKILL and NATS restart tests caught exactly that.
	for _, m := range b.msgs {
		if err := m.Ack(); err != nil {
			p.log.WarnContext(ctx, "ack failed; message will be redelivered and deduplicated",
				"error", err)
			break
		}
	}
	p.stats.batches.Add(1)
	p.stats.projected.Add(int64(len(fresh)))
	p.stats.duplicates.Add(int64(b.batch.events - len(fresh)))
	d := time.Since(b.start)
	if p.cfg.OnBatch != nil {
		p.cfg.OnBatch(d, len(fresh))
	}
	if d > slowBatch {
		p.log.InfoContext(ctx, "slow batch", "duration_ms", d.Milliseconds(),
			"messages", len(b.msgs), "rows", len(fresh))
	}
}

// retry runs op until it succeeds, extending the messages' ack deadline
// between attempts, or until ctx ends.
func (p *Projector) retry(ctx context.Context, msgs []jetstream.Msg,
	op func() ([]stored, error)) ([]stored, error) {
	for backoff := 100 * time.Millisecond; ; backoff = next(backoff) {
		out, err := op()
		if err == nil {
			return out, nil
		}
		p.stats.writeErrors.Add(1)
		p.log.ErrorContext(ctx, "warehouse write failed", "error", err,
			"messages", len(msgs), "retry_in", backoff.String())
		for _, m := range msgs {
			_ = m.InProgress()
		}
		if !sleep(ctx, backoff) {
			return nil, ctx.Err()
		}
	}
}

// stored is an event with its position in the stream.
type stored struct {
	ev  events.Event
	seq uint64
	idx uint32
}

// decoded is a batch's events, first occurrence of each id only.
type decoded struct {
	rows   []stored
	events int // including repeats of an id within the batch
}

// decode reads every message of the batch. Messages that cannot be decoded
// go to the dead-letter stream; decode reports false only when ctx ended
// before a dead letter could be stored, since the batch cannot then be
// acknowledged.
func (p *Projector) decode(ctx context.Context, msgs []jetstream.Msg) (decoded, bool) {
	var out decoded
	seen := make(map[eventKey]bool, len(msgs))
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			p.log.ErrorContext(ctx, "message without metadata", "error", err)
			continue
		}
		evs, err := DecodeMessage(m.Data())
		if err != nil {
			if !p.deadLetter(ctx, m, meta.Sequence.Stream, err) {
				return out, false
			}
			continue
		}
		for i, e := range evs {
			out.events++
			k := keyOf(&e)
			if seen[k] {
				continue
			}
			seen[k] = true
			out.rows = append(out.rows, stored{ev: e, seq: meta.Sequence.Stream, idx: uint32(i)})
		}
	}
	return out, true
}

// DecodeMessage reads the events of one stream message: one canonical JSON
// event per line.
func DecodeMessage(data []byte) ([]events.Event, error) {
	var out []events.Event
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := events.Unmarshal(line)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", len(out), err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("message holds no event")
	}
	return out, nil
}

// Row is the events-table row of one event at a stream position, in the
// order of Columns.
func Row(e events.Event, seq uint64, idx uint32) []any {
	return append([]any{e.ID, e.Tenant, string(e.Type), e.OccurredAt, e.ReceivedAt, e.Source,
		e.Campaign, e.Ad, e.Channel, e.Count, int64(e.Value), int64(e.Amount), e.Currency,
		e.Customer, e.Subscription, e.Plan, e.Interval, e.Invoice, seq, idx},
		catalogueRow(e)...)
}

// deadLetter stores an undecodable message with its reason, retrying until
// it is stored or ctx ends, and reports whether it was stored.
func (p *Projector) deadLetter(ctx context.Context, m jetstream.Msg, seq uint64, reason error) bool {
	out := nats.NewMsg(broker.DeadLetterPrefix + "events")
	out.Data = m.Data()
	out.Header.Set(HeaderDeadReason, reason.Error())
	out.Header.Set(HeaderOriginSeq, strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderOriginSubject, m.Subject())
	out.Header.Set(jetstream.MsgIDHeader, "dlq-"+strconv.FormatUint(seq, 10))
	for backoff := 100 * time.Millisecond; ; backoff = next(backoff) {
		_, err := p.cfg.JetStream.PublishMsg(ctx, out)
		if err == nil {
			break
		}
		p.log.ErrorContext(ctx, "dead-letter publish failed", "error", err, "stream_seq", seq)
		if !sleep(ctx, backoff) {
			return false
		}
	}
	p.stats.dead.Add(1)
	p.log.WarnContext(ctx, "message dead-lettered", "stream_seq", seq, "reason", reason.Error())
	return true
}

// eventKey is what identifies an event: its id together with its tenant,
// type and occurred_at (in milliseconds, as stored). The same id under
// another tenant is another event: matching on the id alone would let one
// tenant's events hide another's.
type eventKey struct {
	tenant, typ, id string
	ms              int64
}

func keyOf(e *events.Event) eventKey {
	return eventKey{e.Tenant, string(e.Type), e.ID, e.OccurredAt.UnixMilli()}
}

// unseen drops the events the table already holds, by eventKey. An event
// is looked up among rows of its tenant and type within the batch's
// occurred_at range, which the table's sort key turns into a narrow read.
func (p *Projector) unseen(ctx context.Context, b decoded) ([]stored, error) {
	if len(b.rows) == 0 {
		return nil, nil
	}
	q := fmt.Sprintf(`SELECT tenant, type, toString(id),
	toString(toUnixTimestamp64Milli(occurred_at)) FROM %s
WHERE tenant IN {tenants:Array(String)} AND type IN {types:Array(String)}
	AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at <= {hi:DateTime64(3, 'UTC')}
	AND id IN {ids:Array(UUID)}`, EventsTable(p.cfg.Database))
	res, err := p.cfg.Warehouse.Query(ctx, q, lookupParams(b.rows))
	if err != nil {
		return nil, fmt.Errorf("look up stored ids: %w", err)
	}
	if len(res.Rows) == 0 {
		return b.rows, nil
	}
	have := make(map[eventKey]bool, len(res.Rows))
	for _, r := range res.Rows {
		ms, err := strconv.ParseInt(r[3].(string), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("look up stored ids: occurred_at %v: %w", r[3], err)
		}
		have[eventKey{r[0].(string), r[1].(string), r[2].(string), ms}] = true
	}
	fresh := make([]stored, 0, max(0, len(b.rows)-len(have)))
	for i := range b.rows {
		if !have[keyOf(&b.rows[i].ev)] {
			fresh = append(fresh, b.rows[i])
		}
	}
	return fresh, nil
}

func lookupParams(rows []stored) warehouse.Params {
	tenants, types := map[string]bool{}, map[string]bool{}
	lo, hi := rows[0].ev.OccurredAt, rows[0].ev.OccurredAt
	var ids strings.Builder
	ids.WriteByte('[')
	for i, r := range rows {
		tenants[r.ev.Tenant], types[string(r.ev.Type)] = true, true
		if r.ev.OccurredAt.Before(lo) {
			lo = r.ev.OccurredAt
		}
		if r.ev.OccurredAt.After(hi) {
			hi = r.ev.OccurredAt
		}
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString("'" + r.ev.ID + "'")
	}
	ids.WriteByte(']')
	return warehouse.Params{"tenants": arrayText(tenants), "types": arrayText(types),
		"lo": warehouse.FormatTime(lo), "hi": warehouse.FormatTime(hi), "ids": ids.String()}
}

// arrayText renders validated identifiers (tenants, types: no quotes or
// backslashes can occur in them) as an Array(String) parameter.
func arrayText(set map[string]bool) string {
	parts := make([]string, 0, len(set))
	for s := range set {
		parts = append(parts, "'"+s+"'")
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// write inserts the rows, as RowBinary straight from the events where the
// warehouse takes it, else through the generic Insert.
func (p *Projector) write(ctx context.Context, rows []stored) error {
	if len(rows) == 0 {
		return nil
	}
	table := EventsTable(p.cfg.Database)
	if rb, ok := p.cfg.Warehouse.(warehouse.RowBinaryInserter); ok {
		buf := make([]byte, 0, 160*len(rows))
		var err error
		for i := range rows {
			if buf, err = appendRow(buf, &rows[i].ev, rows[i].seq, rows[i].idx); err != nil {
				return err
			}
		}
		stmt, err := warehouse.InsertStatement(table, eventColumns)
		if err != nil {
			return err
		}
		return rb.InsertRowBinary(ctx, stmt, buf)
	}
	generic := make([][]any, len(rows))
	for i, r := range rows {
		generic[i] = Row(r.ev, r.seq, r.idx)
	}
	return p.cfg.Warehouse.Insert(ctx, table, eventColumns, generic)
}

func next(d time.Duration) time.Duration { return min(2*d, maxBackoff) }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
