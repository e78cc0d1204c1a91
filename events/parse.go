package events

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// mode selects which rules a decoder applies.
type mode uint8

const (
	// modeIngest reads producer input: the server assigns the id when
	// absent and received_at always, and occurred_at must lie in the window.
	modeIngest mode = iota
	// modeBroker reads canonical broker messages: id and received_at are
	// required and kept, and the occurred_at window is not checked again.
	modeBroker
)

// Reasons given for rejected values.
var (
	reasonType = "must be one of " + strings.Join(typeNames(), ", ")
	reasonID   = "must be a UUID such as 01890a5d-ac96-774b-bcce-b302099a8057"
	reasonTen  = fmt.Sprintf("must be an ASCII letter or digit followed by at most "+
		"%d letters, digits, '_' or '-'", MaxTenantLen-1)
	reasonCurrency = "must be an upper-case ISO 4217 currency code such as USD"
	reasonInterval = `must be "month" or "year"`
	reasonEarly    = "must not be before 2000-01-01T00:00:00Z"
	reasonLate     = fmt.Sprintf("must not be more than %v after the server's receive time",
		MaxFutureSkew)
)

// brokerRequired lists what canonical messages carry beyond a type's rule.
var brokerRequired = setOf(fID, fReceivedAt)

func typeNames() []string {
	names := make([]string, len(allTypes))
	for i, t := range allTypes {
		names[i] = string(t)
	}
	return names
}

// Parse decodes and validates one event object sent by a producer.
//
// now is the server's receive time: it becomes ReceivedAt (in UTC,
// truncated to the millisecond; a received_at sent by the producer is
// ignored) and bounds occurred_at, which must lie between
// [MinOccurredAtUnix] and now plus [MaxFutureSkew]. newID is called for the
// ID when the producer sent none; if newID is nil, [NewID] is used.
//
// A JSON null, and an empty string, count as an absent field. A field the
// type does not allow is rejected even when null.
//
// On failure Parse returns the first problem found as a *FieldError with
// Index 0, for the caller to set. Do not assign a nil *FieldError to an
// error variable: compare it with nil first.
func Parse(data []byte, now time.Time, newID func() string) (Event, *FieldError) {
	if len(data) > MaxEventBytes {
		return Event{}, tooLarge()
	}
	d := decoder{mode: modeIngest, now: now}
	if fe := d.run(string(data)); fe != nil {
		return Event{}, fe
	}
	if d.ev.ID == "" {
		if newID == nil {
			newID = NewID
		}
		d.ev.ID = newID()
	}
	d.ev.ReceivedAt = now.UTC().Truncate(time.Millisecond)
	return d.ev, nil
}

// NewID returns a new version 7 UUID in canonical form. It panics if the
// system's random source fails, which the Go runtime treats as fatal anyway.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

func tooLarge() *FieldError {
	return &FieldError{Reason: fmt.Sprintf("is larger than %d bytes", MaxEventBytes)}
}

// decoder turns the text of one object into an Event. It scans all keys
// first, then validates in field order, so the error reported for an event
// does not depend on the order of its keys.
type decoder struct {
	mode    mode
	now     time.Time
	vals    [numFields]string
	present fieldSet // keys with a value that is neither null nor ""
	seen    fieldSet // every key
	ev      Event
}

func (d *decoder) run(src string) *FieldError {
	if fe := d.scan(src); fe != nil {
		return fe
	}
	return d.validate()
}

func fieldError(f field, reason string) *FieldError {
	return &FieldError{Field: fieldNames[f], Reason: reason}
}

func syntaxError(s *scanner, what string) *FieldError {
	return &FieldError{Reason: fmt.Sprintf("invalid JSON at byte %d: %s", s.pos, what)}
}

// scan reads the object's members into d.vals.
func (d *decoder) scan(src string) *FieldError {
	s := scanner{src: src}
	s.skipSpace()
	if !s.consume('{') {
		return &FieldError{Reason: "must be a JSON object"}
	}
	s.skipSpace()
	if !s.consume('}') {
		if fe := d.members(&s); fe != nil {
			return fe
		}
	}
	s.skipSpace()
	if s.pos != len(s.src) {
		return syntaxError(&s, "unexpected data after the object")
	}
	return nil
}

// members reads members up to and including the closing brace.
func (d *decoder) members(s *scanner) *FieldError {
	for {
		if fe := d.member(s); fe != nil {
			return fe
		}
		s.skipSpace()
		switch {
		case s.consume(','):
			s.skipSpace()
		case s.consume('}'):
			return nil
		default:
			return syntaxError(s, "expected ',' or '}'")
		}
	}
}

// member reads one "key": value pair.
func (d *decoder) member(s *scanner) *FieldError {
	if s.peek() != '"' {
		return syntaxError(s, "expected a field name")
	}
	key, reason := s.str()
	if reason != "" {
		return syntaxError(s, "field name "+reason)
	}
	f, ok := lookupField(key)
	if !ok {
		return &FieldError{Field: clip(key), Reason: "unknown field"}
	}
	if d.seen.has(f) {
		return fieldError(f, "appears more than once")
	}
	d.seen |= 1 << f
	s.skipSpace()
	if !s.consume(':') {
		return syntaxError(s, "expected ':'")
	}
	s.skipSpace()
	return d.value(s, f)
}

// value reads the value of field f, checking its JSON type.
func (d *decoder) value(s *scanner, f field) *FieldError {
	k := kindOf(f)
	switch c := s.peek(); {
	case c == '"':
		v, reason := s.str()
		if reason != "" {
			return fieldError(f, reason)
		}
		if k == kindInteger {
			return fieldError(f, wrongType(k))
		}
		d.set(f, v)
	case c == '-' || c >= '0' && c <= '9':
		v, ok := s.number()
		if !ok {
			return fieldError(f, "is not a valid JSON number")
		}
		if k == kindString {
			return fieldError(f, wrongType(k))
		}
		d.set(f, v)
	case s.literal("null"):
	case c == 't' || c == 'f' || c == '{' || c == '[':
		return fieldError(f, wrongType(k))
	default:
		return fieldError(f, "is not a valid JSON value")
	}
	return nil
}

func wrongType(k kind) string {
	switch k {
	case kindInteger:
		return "must be a JSON integer"
	case kindMoney:
		return "must be a decimal string or number"
	}
	return "must be a string"
}

func (d *decoder) set(f field, v string) {
	if v != "" {
		d.vals[f] = v
		d.present |= 1 << f
	}
}

// clip shortens an unknown key for echoing it back, on a rune boundary.
func clip(key string) string {
	const max = 64
	if len(key) <= max {
		return key
	}
	n := max
	for n > 0 && !utf8.RuneStart(key[n]) {
		n--
	}
	return key[:n] + "..."
}

// validate checks the scanned values against the rule of the event's type.
func (d *decoder) validate() *FieldError {
	if !d.present.has(fType) {
		return fieldError(fType, "required")
	}
	i := typeIndex(d.vals[fType])
	if i < 0 {
		return fieldError(fType, reasonType)
	}
	d.ev.Type = allTypes[i]
	r := rules[i]
	if extra := d.seen &^ r.allowed; extra != 0 {
		return fieldError(extra.first(), "not allowed for type "+string(d.ev.Type))
	}
	required := r.required
	if d.mode == modeBroker {
		required |= brokerRequired
	}
	if missing := required &^ d.present; missing != 0 {
		return fieldError(missing.first(), "required")
	}
	for f := fID; f < numFields; f++ {
		if f != fType && d.present.has(f) {
			if fe := d.decodeField(f, d.vals[f]); fe != nil {
				return fe
			}
		}
	}
	return d.finish(r)
}

// finish applies the checks that span fields, and the defaults.
func (d *decoder) finish(r rule) *FieldError {
	money := d.present.has(fValue) || d.present.has(fAmount)
	if money && !d.present.has(fCurrency) {
		return fieldError(fCurrency, "required when value or amount is given")
	}
	if r.allowed.has(fCount) && d.ev.Count == 0 {
		d.ev.Count = 1
	}
	if r.allowed.has(fInterval) && d.ev.Interval == "" {
		d.ev.Interval = IntervalMonth
	}
	return nil
}

// decodeField validates the non-empty value v of field f into d.ev.
func (d *decoder) decodeField(f field, v string) *FieldError {
	switch f {
	case fID:
		id, ok := canonicalUUID(v)
		if !ok {
			return fieldError(f, reasonID)
		}
		d.ev.ID = id
	case fTenant:
		if !validTenant(v) {
			return fieldError(f, reasonTen)
		}
		d.ev.Tenant = v
	case fOccurredAt:
		return d.decodeOccurredAt(v)
	case fReceivedAt:
		return d.decodeReceivedAt(v)
	case fCount:
		return d.decodeCount(v)
	case fValue, fAmount:
		return d.decodeMoney(f, v)
	case fCurrency:
		if !IsCurrency(v) {
			return fieldError(f, reasonCurrency)
		}
		d.ev.Currency = v
	case fInterval:
		if v != IntervalMonth && v != IntervalYear {
			return fieldError(f, reasonInterval)
		}
		d.ev.Interval = v
	default:
		return d.decodeText(f, v)
	}
	return nil
}

func (d *decoder) decodeOccurredAt(v string) *FieldError {
	t, ok := parseTime(v)
	switch {
	case !ok:
		return fieldError(fOccurredAt, reasonTime)
	case d.mode == modeBroker:
	case t.Unix() < MinOccurredAtUnix:
		return fieldError(fOccurredAt, reasonEarly)
	case t.After(d.now.Add(MaxFutureSkew)):
		return fieldError(fOccurredAt, reasonLate)
	}
	d.ev.OccurredAt = t
	return nil
}

// decodeReceivedAt keeps received_at from the broker; producers' values
// are ignored because Parse sets the server's time.
func (d *decoder) decodeReceivedAt(v string) *FieldError {
	if d.mode != modeBroker {
		return nil
	}
	t, ok := parseTime(v)
	if !ok {
		return fieldError(fReceivedAt, reasonTime)
	}
	d.ev.ReceivedAt = t
	return nil
}

// decodeCount parses a count from the text of a JSON number.
func (d *decoder) decodeCount(v string) *FieldError {
	switch {
	case v[0] == '-' || strings.Trim(v, "0") == "":
		return fieldError(fCount, "must be at least 1")
	case !isDigits(v):
		return fieldError(fCount, "must be a whole number without fraction or exponent")
	case len(v) > len("1000000000000"):
		return fieldError(fCount, fmt.Sprintf("must be at most %d", int64(MaxCount)))
	}
	var n int64
	for i := 0; i < len(v); i++ {
		n = n*10 + int64(v[i]-'0')
	}
	if n > MaxCount {
		return fieldError(fCount, fmt.Sprintf("must be at most %d", int64(MaxCount)))
	}
	d.ev.Count = n
	return nil
}

func (d *decoder) decodeMoney(f field, v string) *FieldError {
	m, err := ParseMicros(v)
	if err != nil {
		return fieldError(f, err.Error())
	}
	if f == fValue {
		d.ev.Value = m
	} else {
		d.ev.Amount = m
	}
	return nil
}

// decodeText stores a free-form string field after checking its length.
func (d *decoder) decodeText(f field, v string) *FieldError {
	p, max := d.ev.text(f)
	if len(v) > max {
		return fieldError(f, fmt.Sprintf("must be at most %d bytes long", max))
	}
	*p = v
	return nil
}

// text returns where a free-form string field is stored, and its limit.
func (e *Event) text(f field) (*string, int) {
	switch f {
	case fSource:
		return &e.Source, MaxSourceLen
	case fCampaign:
		return &e.Campaign, MaxStringLen
	case fAd:
		return &e.Ad, MaxStringLen
	case fChannel:
		return &e.Channel, MaxStringLen
	case fCustomer:
		return &e.Customer, MaxIDLen
	case fSubscription:
		return &e.Subscription, MaxIDLen
	case fPlan:
		return &e.Plan, MaxIDLen
	case fInvoice:
		return &e.Invoice, MaxIDLen
	}
	panic("events: no text field " + f.String())
}

// validTenant reports whether s matches ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$.
func validTenant(s string) bool {
	if len(s) == 0 || len(s) > MaxTenantLen || s[0] == '_' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-') {
			return false
		}
	}
	return true
}

const nilUUID = "00000000-0000-0000-0000-000000000000"

// canonicalUUID accepts any form uuid.Parse does (hyphenated, braced,
// urn:uuid:, 32 hex digits; either case) except the nil UUID, and returns
// the lower-case hyphenated form.
func canonicalUUID(s string) (string, bool) {
	if isCanonicalUUID(s) {
		return s, s != nilUUID
	}
	u, err := uuid.Parse(s)
	if err != nil || u == uuid.Nil {
		return "", false
	}
	return u.String(), true
}

func isCanonicalUUID(s string) bool {
	if len(s) != len(nilUUID) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
