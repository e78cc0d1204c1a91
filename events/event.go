package events

import (
	"errors"
	"fmt"
	"time"
)

// Limits enforced by [Parse] and [Unmarshal]. Lengths are in bytes of UTF-8.
const (
	// MaxEventBytes bounds the raw JSON of one event, whitespace included.
	MaxEventBytes = 64 << 10
	// MaxTenantLen bounds the tenant; see [Event.Tenant] for its alphabet.
	MaxTenantLen = 64
	// MaxSourceLen bounds the source.
	MaxSourceLen = 128
	// MaxStringLen bounds campaign, ad and channel.
	MaxStringLen = 256
	// MaxIDLen bounds customer, subscription, plan and invoice.
	MaxIDLen = 256
	// MaxCount is the largest count one event may carry.
	MaxCount = 1_000_000_000_000
	// MaxMoneyDecimals is the most fractional digits money may have.
	MaxMoneyDecimals = 6
	// MinOccurredAtUnix is the earliest accepted occurred_at,
	// 2000-01-01T00:00:00Z, in seconds since the Unix epoch.
	MinOccurredAtUnix = 946_684_800
	// MaxFutureSkew is how far past the server's receive time occurred_at
	// may lie, to absorb producer clock drift and time zone mistakes.
	MaxFutureSkew = 24 * time.Hour
)

// Event is one validated event. Fields a type does not allow are empty.
type Event struct {
	// ID is a UUID in lower-case hyphenated form. The server assigns a
	// version 7 UUID when the producer sends none.
	ID string
	// Type selects which of the other fields are set.
	Type Type
	// Tenant is the agency's client: an ASCII letter or digit followed by
	// up to 63 letters, digits, '_' or '-'. It is used as a NATS subject
	// token, so it never holds dots, spaces or wildcards.
	Tenant string
	// OccurredAt is when the event happened, in UTC, truncated to the
	// millisecond.
	OccurredAt time.Time
	// ReceivedAt is when the server received the event, in UTC, truncated
	// to the millisecond. [Parse] always sets it from the server clock; a
	// producer's received_at must be a string or null and is ignored.
	ReceivedAt time.Time
	// Source names the producer, such as a tracker or an integration.
	Source string

	// Campaign, Ad and Channel locate ad delivery events.
	Campaign, Ad, Channel string
	// Count is how many occurrences the event stands for, so a daily
	// report row and a single pixel hit both fit. It defaults to 1 for
	// types that allow a count and is 0 for the others.
	Count int64

	// Value is the worth of a conversion.
	Value Micros
	// Amount is money spent (cost), charged (subscriptions, invoices) or
	// returned (refund).
	Amount Micros
	// Currency is the ISO 4217 code of Value and Amount.
	Currency string

	// Customer, Subscription, Plan and Invoice identify billing objects in
	// the tenant's billing system.
	Customer, Subscription, Plan string
	// Interval is the billing period of a subscription, [IntervalMonth]
	// (the default) or [IntervalYear].
	Interval string
	// Invoice identifies the invoice paid or refunded.
	Invoice string
}

// FieldError says which field of which event was rejected and why. Its
// JSON form, for answering producers, has the keys index, field and reason.
type FieldError struct {
	// Index is the position of the event in its batch, counted from 0.
	Index int `json:"index"`
	// Field is the JSON key at fault. It is empty when the event as a
	// whole is unreadable, such as malformed JSON.
	Field string `json:"field"`
	// Reason explains the rejection to the producer; it is never empty.
	Reason string `json:"reason"`
}

// Error describes the rejection in one line.
func (e FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("event %d: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("event %d: field %q: %s", e.Index, e.Field, e.Reason)
}

// Errors returned by [SplitBatch].
var (
	// ErrEmptyBatch means the body held no event at all.
	ErrEmptyBatch = errors.New("batch holds no events")
	// ErrMalformedBatch means a JSON array body could not be split.
	ErrMalformedBatch = errors.New("malformed JSON array")
)
