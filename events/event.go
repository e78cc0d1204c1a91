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
	// MaxStringLen bounds campaign, ad, channel and the other free-form
	// names: category, event_name, utm_*, account, keyword, engine, team.
	MaxStringLen = 256
	// MaxURLLen bounds url and referrer.
	MaxURLLen = 2048
	// MaxIDLen bounds customer, subscription, plan, invoice, lead,
	// session, visitor, person and project.
	MaxIDLen = 256
	// MaxCount is the largest count one event may carry.
	MaxCount = 1_000_000_000_000
	// MaxMoneyDecimals is the most fractional digits money, hours and
	// position may have.
	MaxMoneyDecimals = 6
	// MaxRank is the largest search rank a keyword_rank event may carry.
	MaxRank = 1000
	// MaxScore is the top of the 0 to 10 scale of survey scores.
	MaxScore = 10
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

	// Position is the average position of an ad in an impression report
	// row, 1 being the top slot; 0 when not reported.
	Position Micros
	// Category classifies an expense, such as marketing, sales or payroll.
	Category string
	// EventName names the webinar, fair or meetup of a registration or
	// attendance.
	EventName string
	// Lead identifies a lead through the sales funnel: created,
	// qualified, opportunity, deal won or lost.
	Lead string
	// Stage is the qualification of a lead: [StageMQL] or [StageSQL].
	Stage string
	// Session and Visitor identify the browser session and the visitor of
	// a page view; URL is the page and Referrer the page linking to it.
	Session, Visitor, URL, Referrer string
	// UTMSource, UTMMedium and UTMCampaign are the page's utm_ parameters.
	UTMSource, UTMMedium, UTMCampaign string
	// Account is a social media account whose followers are counted.
	Account string
	// Followers is the follower count of Account at OccurredAt.
	Followers int64
	// Sentiment of a mention: [SentimentPositive], [SentimentNeutral] or
	// [SentimentNegative]; empty when unknown.
	Sentiment string
	// Reach is how many people a mention may have reached.
	Reach int64
	// Keyword, Engine and Rank are one observation of a search ranking:
	// Rank counts from 1, the top result.
	Keyword, Engine string
	Rank            int64
	// Person, Team and Project locate time logs, estimates and surveys.
	Person, Team, Project string
	// Hours is time logged, estimated or spent, in millionths of an hour.
	Hours Micros
	// Billable marks logged time the agency can invoice.
	Billable bool
	// Score is a survey answer from 0 to [MaxScore].
	Score int64
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
