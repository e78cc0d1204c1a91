package chdb

import (
	"context"
	"fmt"
	"sync"
)

// turnstile lets one statement at a time into the engine, and lets waiting
// reads in before waiting writes. The engine runs statements one by one, so
// without this a dashboard query queues behind every insert batch the
// projector has lined up; with it, a read waits for at most the statement
// already running.
type turnstile struct {
	mu      sync.Mutex    // guards the fields below
	busy    bool          // a statement is running
	readers int           // reads waiting for their turn
	changed chan struct{} // closed and replaced whenever busy or readers drop
}

func newTurnstile() *turnstile { return &turnstile{changed: make(chan struct{})} }

// enter waits for the engine's turn (reads first), or for ctx.
func (t *turnstile) enter(ctx context.Context, read bool) error {
	t.mu.Lock()
	if read {
		t.readers++
	}
	for t.busy || (!read && t.readers > 0) {
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.mu.Lock()
			if read {
				t.readers--
				t.notify()
			}
			t.mu.Unlock()
			return fmt.Errorf("chdb: wait for engine: %w", ctx.Err())
		}
		t.mu.Lock()
	}
	t.busy = true
	if read {
		t.readers--
	}
	t.mu.Unlock()
	return nil
}

// leave ends the running statement's turn.
func (t *turnstile) leave() {
	t.mu.Lock()
	t.busy = false
	t.notify()
	t.mu.Unlock()
}

// notify wakes every waiter to re-check; callers hold mu.
func (t *turnstile) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}
