// Package projections turns the event stream into ClickHouse tables. A
// projector reads the events stream through a durable JetStream consumer in
// batches, writes each batch to the raw events table, and acknowledges the
// messages only once ClickHouse has them.
//
// Exactly-once counting rests on the stream sequence, not on the batch: every
// row carries the JetStream sequence of its message, and before writing, the
// projector asks the table which sequences of the batch it already holds. A
// batch that is redelivered after a crash (whatever messages it now holds)
// or a write that half-landed across partitions therefore only adds what is
// missing. Nothing is marked as seen apart from the data itself, so a failed
// write can never hide an event. Aggregates are ClickHouse projections inside
// the same parts, so they are written atomically with the rows they sum.
package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	DefaultDurable   = "kpi-projector"
	DefaultBatchSize = 10000
	DefaultMaxWait   = 200 * time.Millisecond
	// DefaultAckWait is how long JetStream waits before redelivering an
	// unacknowledged batch; retries of a failing write extend it.
	DefaultAckWait = 2 * time.Minute
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
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
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
		MaxAckPending: 4 * p.cfg.BatchSize, MaxRequestBatch: p.cfg.BatchSize,
		Description: "kpi projection into ClickHouse",
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
	p.log.InfoContext(ctx, "projector started", "batch_size", p.cfg.BatchSize,
		"database", p.cfg.Database, "backend", p.cfg.Warehouse.Backend())
	drain := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		msgs, err := fetch(cons, p.cfg.BatchSize, p.cfg.MaxWait)
		if err != nil {
			p.log.WarnContext(ctx, "fetch failed", "error", err)
			sleep(ctx, time.Second)
		}
		if len(msgs) > 0 {
			p.Project(drain, msgs)
		}
	}
	p.log.InfoContext(drain, "projector stopped", "projected", p.stats.projected.Load())
	return nil
}

func fetch(cons jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(wait))
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

// Project writes one batch of stream messages and acknowledges them. It
// retries a failing write with backoff until it succeeds or ctx ends; then
// the messages stay unacknowledged and JetStream redelivers them.
func (p *Projector) Project(ctx context.Context, msgs []jetstream.Msg) {
	start := time.Now()
	rows, live := p.decode(ctx, msgs)
	fresh, err := p.retry(ctx, msgs, func() ([][]any, error) { return p.unseen(ctx, rows) })
	if err != nil {
		return
	}
	if _, err := p.retry(ctx, msgs, func() ([][]any, error) {
		return nil, p.cfg.Warehouse.Insert(ctx, EventsTable(p.cfg.Database), eventColumns, fresh)
	}); err != nil {
		return
	}
	for _, m := range live {
		if err := m.Ack(); err != nil {
			p.log.WarnContext(ctx, "ack failed; batch will be redelivered and deduplicated",
				"error", err)
			break
		}
	}
	p.stats.batches.Add(1)
	p.stats.projected.Add(int64(len(fresh)))
	p.stats.duplicates.Add(int64(len(rows) - len(fresh)))
	d := time.Since(start)
	if p.cfg.OnBatch != nil {
		p.cfg.OnBatch(d, len(fresh))
	}
	if d > slowBatch {
		p.log.InfoContext(ctx, "slow batch", "duration_ms", d.Milliseconds(),
			"messages", len(msgs), "rows", len(fresh))
	}
}

// retry runs op until it succeeds, extending the messages' ack deadline
// between attempts, or until ctx ends.
func (p *Projector) retry(ctx context.Context, msgs []jetstream.Msg, op func() ([][]any, error)) ([][]any, error) {
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

// decode turns messages into rows. Messages that cannot be decoded go to the
// dead-letter stream; the returned messages are the ones to acknowledge.
func (p *Projector) decode(ctx context.Context, msgs []jetstream.Msg) ([][]any, []jetstream.Msg) {
	rows := make([][]any, 0, len(msgs))
	live := msgs[:0:0]
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			p.log.ErrorContext(ctx, "message without metadata", "error", err)
			continue
		}
		evs, err := DecodeMessage(m.Data())
		if err != nil {
			if p.deadLetter(ctx, m, meta.Sequence.Stream, err) {
				live = append(live, m)
			}
			continue
		}
		for i, e := range evs {
			rows = append(rows, Row(e, meta.Sequence.Stream, uint32(i)))
		}
		live = append(live, m)
	}
	return rows, live
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
	return []any{e.ID, e.Tenant, string(e.Type), e.OccurredAt, e.ReceivedAt, e.Source,
		e.Campaign, e.Ad, e.Channel, e.Count, int64(e.Value), int64(e.Amount), e.Currency,
		e.Customer, e.Subscription, e.Plan, e.Interval, e.Invoice, seq, idx}
}

const (
	colSeq   = 18
	colIndex = 19
)

// deadLetter stores an undecodable message with its reason and reports
// whether it may now be acknowledged.
func (p *Projector) deadLetter(ctx context.Context, m jetstream.Msg, seq uint64, reason error) bool {
	out := nats.NewMsg(broker.DeadLetterPrefix + "events")
	out.Data = m.Data()
	out.Header.Set(HeaderDeadReason, reason.Error())
	out.Header.Set(HeaderOriginSeq, strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderOriginSubject, m.Subject())
	out.Header.Set(jetstream.MsgIDHeader, "dlq-"+strconv.FormatUint(seq, 10))
	if _, err := p.cfg.JetStream.PublishMsg(ctx, out); err != nil {
		p.log.ErrorContext(ctx, "dead-letter publish failed; message will be redelivered",
			"error", err, "stream_seq", seq)
		return false
	}
	p.stats.dead.Add(1)
	p.log.WarnContext(ctx, "message dead-lettered", "stream_seq", seq, "reason", reason.Error())
	return true
}

// unseen drops the rows whose (stream_seq, seq_index) the table already
// holds. The minmax index on stream_seq keeps this to the newest parts.
func (p *Projector) unseen(ctx context.Context, rows [][]any) ([][]any, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	lo, hi := rows[0][colSeq].(uint64), rows[0][colSeq].(uint64)
	for _, r := range rows {
		s := r[colSeq].(uint64)
		lo, hi = min(lo, s), max(hi, s)
	}
	q := fmt.Sprintf(`SELECT stream_seq, seq_index FROM %s
WHERE stream_seq BETWEEN {lo:UInt64} AND {hi:UInt64}`, EventsTable(p.cfg.Database))
	res, err := p.cfg.Warehouse.Query(ctx, q, warehouse.Params{
		"lo": strconv.FormatUint(lo, 10), "hi": strconv.FormatUint(hi, 10)})
	if err != nil {
		return nil, fmt.Errorf("check stored sequences: %w", err)
	}
	if len(res.Rows) == 0 {
		return rows, nil
	}
	type key struct {
		seq uint64
		idx uint32
	}
	seen := make(map[key]bool, len(res.Rows))
	for _, r := range res.Rows {
		seen[key{uint64(r[0].(int64)), uint32(r[1].(int64))}] = true
	}
	fresh := rows[:0:0]
	for _, r := range rows {
		if !seen[key{r[colSeq].(uint64), r[colIndex].(uint32)}] {
			fresh = append(fresh, r)
		}
	}
	return fresh, nil
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
