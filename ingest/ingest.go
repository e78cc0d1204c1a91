// Package ingest is the HTTP front door for events: POST /v1/events takes a
// JSON array or NDJSON, validates each event on its own, publishes the valid
// ones to JetStream and answers 202 only once JetStream has acknowledged
// every one of them. Events of one tenant and type travel together in one
// message whose Nats-Msg-Id digests their tenant, type, ids and times, so a
// producer that resends a
// batch (after a timeout, say) is dropped by the broker; any other repeat of
// an event id is dropped by the projector.
package ingest

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/broker"
)

// Limits of one request.
const (
	DefaultMaxBodyBytes = 16 << 20
	DefaultMaxEvents    = 20000
	DefaultAckTimeout   = 10 * time.Second
	// RetryAfterSeconds is what a 503 asks the producer to wait.
	RetryAfterSeconds = 1
)

// Config wires a Handler.
type Config struct {
	JetStream    jetstream.JetStream
	MaxBodyBytes int64
	MaxEvents    int
	AckTimeout   time.Duration
	Logger       *slog.Logger
	// Now and NewID are for tests; they default to the clock and UUID v7.
	Now   func() time.Time
	NewID func() string
}

// Handler serves POST /v1/events.
type Handler struct {
	cfg   Config
	log   *slog.Logger
	stats struct{ accepted, rejected, duplicates, unavailable atomic.Int64 }
}

// Stats counts events since start.
type Stats struct{ Accepted, Rejected, Duplicates, Unavailable int64 }

// New checks cfg and fills in defaults.
func New(cfg Config) (*Handler, error) {
	if cfg.JetStream == nil {
		return nil, errors.New("ingest: config: jetstream is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newV7
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, log: log.With("component", "ingest")}, nil
}

func newV7() string { return uuid.Must(uuid.NewV7()).String() }

// Stats returns a snapshot of the counters.
func (h *Handler) Stats() Stats {
	return Stats{h.stats.accepted.Load(), h.stats.rejected.Load(),
		h.stats.duplicates.Load(), h.stats.unavailable.Load()}
}

// Response is the body of every answer to POST /v1/events.
type Response struct {
	// Accepted counts events now durable in JetStream, duplicates included.
	Accepted int `json:"accepted"`
	// Duplicates counts accepted events JetStream already held (same id).
	Duplicates int `json:"duplicates"`
	// Rejected lists the events that failed validation.
	Rejected []events.FieldError `json:"rejected"`
	// IDs has the id of each event by input position, null where rejected,
	// so a producer can resend with the ids the server assigned.
	IDs   []*string `json:"ids"`
	Error string    `json:"error,omitempty"`
}

// errUnsupportedEncoding is a Content-Encoding other than gzip or identity.
type errUnsupportedEncoding string

func (e errUnsupportedEncoding) Error() string {
	return fmt.Sprintf("Content-Encoding %q is not supported; send gzip or none", string(e))
}

// readBody reads the request body, gunzipped when the producer says so.
// The size limit holds for the body as sent and again once decompressed,
// so a small bomb cannot fill memory.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.cfg.MaxBodyBytes
	src := io.Reader(http.MaxBytesReader(w, r.Body, limit))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return io.ReadAll(src)
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("not gzip: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err == nil && int64(len(body)) > limit {
			err = &http.MaxBytesError{Limit: limit}
		}
		return body, err
	default:
		return nil, errUnsupportedEncoding(enc)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, Response{Error: "use POST"})
		return
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		writeJSON(w, http.StatusRequestEntityTooLarge, Response{Error: fmt.Sprintf(
			"body: %d bytes is over the limit of %d", r.ContentLength, h.cfg.MaxBodyBytes)})
		return
	}
	body, err := h.readBody(w, r)
	var tooBig *http.MaxBytesError
	var unsupported errUnsupportedEncoding
	if errors.As(err, &unsupported) {
		writeJSON(w, http.StatusUnsupportedMediaType, Response{Error: err.Error()})
		return
	} else if errors.As(err, &tooBig) {
		writeJSON(w, http.StatusRequestEntityTooLarge, Response{Error: fmt.Sprintf(
			"body: over the limit of %d bytes", h.cfg.MaxBodyBytes)})
		return
	} else if err != nil {
		writeJSON(w, http.StatusBadRequest, Response{Error: "body: " + err.Error()})
		return
	}
	status, resp := h.Ingest(r.Context(), body)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	writeJSON(w, status, resp)
}

// Ingest validates and publishes one request body and returns the HTTP
// status and answer for it.
func (h *Handler) Ingest(ctx context.Context, body []byte) (int, Response) {
	raws, splitErrs, err := events.SplitBatch(body)
	if err != nil {
		return http.StatusBadRequest, Response{Error: "body: " + err.Error()}
	}
	if len(raws) > h.cfg.MaxEvents {
		return http.StatusRequestEntityTooLarge, Response{Error: fmt.Sprintf(
			"body: %d events is over the limit of %d per request", len(raws), h.cfg.MaxEvents)}
	}
	if len(raws) == 0 {
		return http.StatusBadRequest, Response{Error: "body: no events"}
	}
	batch := h.validate(raws, splitErrs, tenantScope(ctx))
	resp := Response{Rejected: batch.rejected, IDs: batch.ids}
	h.stats.rejected.Add(int64(len(batch.rejected)))
	if len(batch.valid) == 0 {
		resp.Error = "no valid events"
		return http.StatusBadRequest, resp
	}
	dups, err := h.publish(ctx, batch.valid)
	if err != nil {
		h.stats.unavailable.Add(int64(len(batch.valid)))
		h.log.WarnContext(ctx, "publish failed", "error", err, "events", len(batch.valid))
		resp.Error = "event store unavailable; resend the batch with the listed ids"
		return http.StatusServiceUnavailable, resp
	}
	resp.Accepted, resp.Duplicates = len(batch.valid), dups
	h.stats.accepted.Add(int64(resp.Accepted))
	h.stats.duplicates.Add(int64(dups))
	return http.StatusAccepted, resp
}

type validated struct {
	valid    []events.Event
	rejected []events.FieldError
	ids      []*string
}

func (h *Handler) validate(raws [][]byte, splitErrs []events.FieldError, scope string) validated {
	v := validated{ids: make([]*string, len(raws)), rejected: []events.FieldError{}}
	bad := make(map[int]bool, len(splitErrs))
	for _, fe := range splitErrs {
		bad[fe.Index] = true
		v.rejected = append(v.rejected, fe)
	}
	now := h.cfg.Now()
	seen := make(map[string]int, len(raws))
	for i, raw := range raws {
		if bad[i] || raw == nil {
			continue
		}
		e, fe := h.parse(raw, now, scope)
		if fe != nil {
			fe.Index = i
			v.rejected = append(v.rejected, *fe)
			continue
		}
		if first, dup := seen[e.ID]; dup {
			v.rejected = append(v.rejected, events.FieldError{Index: i, Field: "id",
				Reason: fmt.Sprintf("duplicate of event %d in this batch", first)})
			continue
		}
		seen[e.ID] = i
		id := e.ID
		v.ids[i] = &id
		v.valid = append(v.valid, e)
	}
	slices.SortStableFunc(v.rejected, func(a, b events.FieldError) int { return a.Index - b.Index })
	return v
}

// MaxEventsPerMessage bounds how many events share one stream message.
// Packing a request's events into few messages is what lets ingest run at
// the broker's message rate times this factor rather than at its message
// rate; the projector deduplicates by event id, so a message's composition
// does not matter for exactness.
const MaxEventsPerMessage = 1000

type tenantKey struct{}

// WithTenant confines the ingest requests made with ctx to one tenant, the
// one an API key is scoped to: an event with no tenant member gets this one,
// and an event naming another tenant is rejected (field tenant) while the
// rest of its batch goes ahead.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// tenantScope is the tenant ctx confines events to, or "" for any.
func tenantScope(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

// parse decodes one event and holds it to the tenant scope, if any.
func (h *Handler) parse(raw []byte, now time.Time, scope string) (
	events.Event, *events.FieldError,
) {
	e, fe := events.ParseFor(raw, now, h.cfg.NewID, scope)
	if scope == "" {
		return e, fe
	}
	if fe == nil && e.Tenant != scope {
		return events.Event{}, &events.FieldError{Field: "tenant", Reason: fmt.Sprintf(
			"the API key is scoped to tenant %q; this event names %q", scope, e.Tenant)}
	}
	return e, fe
}

// publish packs the events into messages per tenant and type (NDJSON of
// canonical events), sends them all, and waits until JetStream has
// acknowledged each. The message id is a digest of the events it holds,
// so an identical resend is dropped by the broker before it costs anything
// downstream. It returns how many events were in duplicate messages.
func (h *Handler) publish(ctx context.Context, evs []events.Event) (int, error) {
	if nc := h.cfg.JetStream.Conn(); nc != nil && !nc.IsConnected() {
		// Fail fast: publishing now would only sit in the reconnect buffer
		// until the ack timeout.
		return 0, fmt.Errorf("publish: %w", nats.ErrConnectionClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.AckTimeout)
	defer cancel()
	msgs := pack(evs)
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		f, err := h.publishAsync(ctx, m.msg)
		if err != nil {
			return 0, fmt.Errorf("publish: %w", err)
		}
		futures[i] = f
	}
	dups := 0
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				dups += msgs[i].events
			}
		case err := <-f.Err():
			return 0, fmt.Errorf("publish ack: %w", err)
		case <-ctx.Done():
			return 0, fmt.Errorf("publish ack: %w", ctx.Err())
		}
	}
	return dups, nil
}

// publishAsync waits for room when the client's window of unacknowledged
// messages is full, rather than failing the request under load.
func (h *Handler) publishAsync(ctx context.Context, m *nats.Msg) (jetstream.PubAckFuture, error) {
	for {
		f, err := h.cfg.JetStream.PublishMsgAsync(m)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

type packed struct {
	msg    *nats.Msg
	events int
}

// pack groups events by tenant and type, keeping their order, into
// messages of at most MaxEventsPerMessage events.
func pack(evs []events.Event) []packed {
	type key struct{ tenant, typ string }
	var order []key
	groups := map[key][]int{}
	for i, e := range evs {
		k := key{e.Tenant, string(e.Type)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var out []packed
	for _, k := range order {
		idx := groups[k]
		for len(idx) > 0 {
			n := min(len(idx), MaxEventsPerMessage)
			out = append(out, message(k.tenant, k.typ, evs, idx[:n]))
			idx = idx[n:]
		}
	}
	return out
}

func message(tenant, typ string, evs []events.Event, idx []int) packed {
	data := make([]byte, 0, 320*len(idx))
	// The message id covers what identifies each event (tenant, type, id,
	// occurred_at), so the same ids sent by another tenant, or with another
	// type or time, are other events and never dropped as repeats.
	sum := sha256.New()
	sum.Write([]byte(tenant + "\x00" + typ + "\x00"))
	var ms [8]byte
	for _, i := range idx {
		data = evs[i].AppendJSON(data)
		data = append(data, '\n')
		sum.Write([]byte(evs[i].ID))
		binary.LittleEndian.PutUint64(ms[:], uint64(evs[i].OccurredAt.UnixMilli()))
		sum.Write(ms[:])
	}
	id := "b2-" + hex.EncodeToString(sum.Sum(nil)[:16])
	m := &nats.Msg{Subject: broker.EventSubject(tenant, typ), Data: data,
		Header: nats.Header{jetstream.MsgIDHeader: []string{id}}}
	return packed{msg: m, events: len(idx)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
