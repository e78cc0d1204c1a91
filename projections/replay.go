package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/internal/broker"
)

// Replay rebuilds the projections from the whole stream: it removes the
// durable consumer, empties the events table, and projects every message
// again until the consumer has nothing pending. Stop the projectors of
// running servers first: they share the durable consumer.
func (p *Projector) Replay(ctx context.Context, progress func(done, total uint64)) error {
	err := p.cfg.JetStream.DeleteConsumer(ctx, broker.EventsStream, p.cfg.Durable)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("replay: delete consumer: %w", err)
	}
	q := fmt.Sprintf("TRUNCATE TABLE IF EXISTS %s", EventsTable(p.cfg.Database))
	if err := p.cfg.Warehouse.Exec(ctx, q, nil); err != nil {
		return fmt.Errorf("replay: truncate: %w", err)
	}
	p.log.InfoContext(ctx, "replay started")
	return p.CatchUp(ctx, progress)
}

// CatchUp projects until the consumer has no message pending or in flight.
// progress, if set, is told how far the consumer has acknowledged.
func (p *Projector) CatchUp(ctx context.Context, progress func(done, total uint64)) error {
	cons, err := p.Consumer(ctx)
	if err != nil {
		return err
	}
	var infoErr error
	p.pump(ctx, cons, func() bool {
		info, err := cons.Info(ctx)
		if err != nil {
			infoErr = fmt.Errorf("catch up: consumer info: %w", err)
			return true
		}
		if progress != nil {
			progress(info.AckFloor.Stream, info.Delivered.Stream+info.NumPending)
		}
		return info.NumPending == 0 && info.NumAckPending == 0
	})
	if infoErr != nil {
		return infoErr
	}
	return ctx.Err()
}

// Pending reports how many messages the durable consumer has not yet had
// acknowledged: waiting in the stream plus delivered but unacknowledged.
func (p *Projector) Pending(ctx context.Context) (uint64, error) {
	c, err := p.cfg.JetStream.Consumer(ctx, broker.EventsStream, p.cfg.Durable)
	if err != nil {
		return 0, fmt.Errorf("pending: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("pending: %w", err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// WaitIdle blocks until the consumer has nothing pending, or ctx ends.
func (p *Projector) WaitIdle(ctx context.Context) error {
	for {
		n, err := p.Pending(ctx)
		if err == nil && n == 0 {
			return nil
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return fmt.Errorf("wait idle: %d pending: %w", n, ctx.Err())
		}
	}
}
