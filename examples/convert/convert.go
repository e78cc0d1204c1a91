// Package convert turns two public datasets, a Facebook ads report and IBM's
// Telco customer churn sample, into kpi events written as NDJSON.
//
// Every event written has passed [events.Parse], so POST /v1/events accepts
// the output as is. Event ids are UUIDs derived from each row's natural key
// and the event type, so importing a file twice stores every event once.
// A row that cannot be converted is reported as a [*RowError] and left out;
// the conversion goes on with the next row.
package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kpi-analytics/kpi/events"
)

// Func converts one CSV file read from in into NDJSON events written to out.
// It calls onBad, which may be nil, for each malformed row and goes on. It
// returns an error only when the file as a whole cannot be read (its header
// lacks a column: [ErrMissingColumn]) or out fails.
type Func func(in io.Reader, out io.Writer, onBad func(*RowError)) (Stats, error)

// Stats sums up one conversion.
type Stats struct {
	// Rows counts the data rows read, malformed ones included.
	Rows int
	// Events counts the events written.
	Events int
	// Skipped counts events left out because they stood for nothing, such
	// as a click event for a row with zero clicks.
	Skipped int
	// Malformed counts the rows reported to onBad.
	Malformed int
}

// ErrMissingColumn means the CSV header lacks a column a converter reads.
var ErrMissingColumn = errors.New("missing column")

// RowError reports a row that was left out, by its line in the CSV file.
type RowError struct {
	// Line is the 1-based line of the row, the header being line 1.
	Line int
	// Err says what is wrong; it wraps an [*events.FieldError] when an
	// event built from the row was rejected.
	Err error
}

// Error describes the row's problem in one line.
func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *RowError) Unwrap() error { return e.Err }

// Event is one kpi event as a producer sends it; empty fields are left out,
// so a zero Count means the server's default of 1.
type Event struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Tenant       string `json:"tenant"`
	OccurredAt   string `json:"occurred_at"`
	Source       string `json:"source,omitempty"`
	Campaign     string `json:"campaign,omitempty"`
	Ad           string `json:"ad,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Count        int64  `json:"count,omitempty"`
	Amount       string `json:"amount,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Customer     string `json:"customer,omitempty"`
	Subscription string `json:"subscription,omitempty"`
	Interval     string `json:"interval,omitempty"`
}

// idSpace is the UUID namespace of the ids this package derives.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL,
	[]byte("https://github.com/kpi-analytics/kpi/examples/convert"))

// eventID derives a version 5 UUID from the parts of a natural key.
func eventID(parts ...string) string {
	return uuid.NewSHA1(idSpace, []byte(strings.Join(parts, "\x00"))).String()
}

// timestamp formats t in the RFC 3339 form events carry.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// rowFunc turns one data row into events; skipped counts the events it
// left out on purpose.
type rowFunc func(r row) (evs []Event, skipped int, err error)

// run converts every row of the CSV read from in with fn.
func run(in io.Reader, out io.Writer, onBad func(*RowError), fn rowFunc,
	columns ...string) (Stats, error) {
	t, err := openTable(in, columns)
	if err != nil {
		return Stats{}, err
	}
	c := converter{out: out, onBad: onBad, now: time.Now()}
	for {
		r, err := t.next()
		if errors.Is(err, io.EOF) {
			return c.stats, nil
		}
		if err != nil {
			return c.stats, fmt.Errorf("read csv: %w", err)
		}
		if err := c.convert(r, fn); err != nil {
			return c.stats, err
		}
	}
}

// converter writes the events of one file and keeps its statistics.
type converter struct {
	out   io.Writer
	onBad func(*RowError)
	now   time.Time
	stats Stats
}

// convert writes the events of row r, or reports r to onBad. It returns
// only the errors of out, which end the run.
func (c *converter) convert(r row, fn rowFunc) error {
	c.stats.Rows++
	lines, skipped, err := c.events(r, fn)
	if err != nil {
		c.stats.Malformed++
		if c.onBad != nil {
			c.onBad(&RowError{Line: r.line, Err: err})
		}
		return nil
	}
	c.stats.Skipped += skipped
	c.stats.Events += bytes.Count(lines, []byte{'\n'})
	if _, err := c.out.Write(lines); err != nil {
		return fmt.Errorf("write events of line %d: %w", r.line, err)
	}
	return nil
}

// events returns the NDJSON of the events of r.
func (c *converter) events(r row, fn rowFunc) ([]byte, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	evs, skipped, err := fn(r)
	if err != nil {
		return nil, 0, err
	}
	lines, err := c.encode(evs)
	return lines, skipped, err
}

// encode marshals evs as NDJSON, checking each with the server's rules.
func (c *converter) encode(evs []Event) ([]byte, error) {
	var b []byte
	for _, e := range evs {
		line, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("marshal %s event: %w", e.Type, err)
		}
		if _, fe := events.Parse(line, c.now, nil); fe != nil {
			return nil, fmt.Errorf("%s event: %w", e.Type, fe)
		}
		b = append(append(b, line...), '\n')
	}
	return b, nil
}
