package events

import (
	"fmt"
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

// brokerRequired lists what canonical messages carry beyond a type's rule.
var brokerRequired = setOf(fID, fReceivedAt)

// Parse decodes and validates one event object sent by a producer.
//
// now is the server's receive time. It becomes ReceivedAt, in UTC and
// truncated to the millisecond; a received_at sent by the producer must be
// a string or null and is otherwise ignored. now also bounds occurred_at,
// which must lie between [MinOccurredAtUnix] and now plus [MaxFutureSkew].
// newID is called for the ID when the producer sent none; if newID is nil,
// [NewID] is used.
//
// A JSON null, and an empty string, count as an absent field. A field the
// type does not allow is rejected even when null.
//
// On failure Parse returns the first problem found as a *FieldError with
// Index 0, for the caller to set. Do not assign a nil *FieldError to an
// error variable: compare it with nil first.
func Parse(data []byte, now time.Time, newID func() string) (Event, *FieldError) {
	return ParseFor(data, now, newID, "")
}

// ParseFor is Parse for a producer confined to one tenant: an event whose
// tenant is absent (missing, null or "") gets defaultTenant, which must be
// a valid tenant name; an event naming a tenant keeps it, for the caller to
// check.
func ParseFor(data []byte, now time.Time, newID func() string, defaultTenant string) (
	Event, *FieldError) {
	if len(data) > MaxEventBytes {
		return Event{}, tooLarge()
	}
	d := decoder{mode: modeIngest, now: now, defaultTenant: defaultTenant}
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
	return &FieldError{Reason: fmt.Sprintf("event is larger than %d bytes", MaxEventBytes)}
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
	// defaultTenant stands in for an absent tenant (see ParseFor).
	defaultTenant string
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
		if k == kindInteger || k == kindBool {
			return fieldError(f, wrongType(k))
		}
		d.set(f, v)
	case c == '-' || c >= '0' && c <= '9':
		v, ok := s.number()
		if !ok {
			return fieldError(f, "is not a valid JSON number")
		}
		if k == kindString || k == kindBool {
			return fieldError(f, wrongType(k))
		}
		d.set(f, v)
	case s.literal("null"):
	case k == kindBool && s.literal("true"):
		d.set(f, "true")
	case k == kindBool && s.literal("false"):
		d.set(f, "false")
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
	case kindDecimal:
		return "must be a decimal string or number"
	case kindBool:
		return "must be true or false"
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
