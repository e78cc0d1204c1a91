package events

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Marshal returns the canonical JSON of e, as carried over the broker: keys
// in a fixed order, times as RFC 3339 UTC with milliseconds, money as
// decimal strings. Empty strings, zero times, false and zero numbers are
// omitted, except numbers the type requires (amount, followers, rank,
// score, hours), which are written even when zero. The error is always nil; it is there to match [encoding/json.Marshal].
func Marshal(e Event) ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 384)), nil
}

// MarshalJSON implements [encoding/json.Marshaler] with [Marshal].
func (e Event) MarshalJSON() ([]byte, error) {
	return Marshal(e)
}

// AppendJSON appends the canonical JSON of e, as [Marshal] returns it, to b.
func (e Event) AppendJSON(b []byte) []byte {
	w := objectWriter{b: append(b, '{')}
	w.str(fID, e.ID)
	w.str(fType, string(e.Type))
	w.str(fTenant, e.Tenant)
	w.time(fOccurredAt, e)
	w.time(fReceivedAt, e)
	// Only the fields the type allows can be set; an event that never
	// passed validation, such as one with an unknown type, writes them all.
	var r rule
	if e.Type.Valid() {
		r = ruleFor(e.Type)
	} else {
		r.allowed = 1<<numFields - 1
	}
	for rest := r.allowed &^ (1<<fSource - 1); rest != 0; rest &= rest - 1 {
		f := rest.first()
		w.field(&e, f, r.required.has(f))
	}
	return append(w.b, '}')
}

// field writes field f of e unless it is empty; numbers a type requires
// are written even when zero, so that the message reads back.
func (w *objectWriter) field(e *Event, f field, required bool) {
	switch kindOf(f) {
	case kindInteger:
		if n := *e.integer(f); n != 0 || required {
			w.key(f)
			w.b = strconv.AppendInt(w.b, n, 10)
		}
	case kindDecimal:
		w.money(f, *e.decimal(f), required)
	case kindBool:
		if e.Billable {
			w.key(f)
			w.b = append(w.b, "true"...)
		}
	default:
		w.str(f, e.stringOf(f))
	}
}

// stringOf returns the value of string field f.
func (e *Event) stringOf(f field) string {
	switch f {
	case fCurrency:
		return e.Currency
	case fInterval:
		return e.Interval
	case fStage:
		return e.Stage
	case fSentiment:
		return e.Sentiment
	}
	p, _ := e.text(f)
	return *p
}

// Unmarshal decodes a message written by [Marshal]. It applies the rules
// of [Parse] except the occurred_at window, which was checked on ingest
// against a clock this side does not have, and it requires id and
// received_at. Errors wrap a *FieldError; use [errors.As] to get it.
func Unmarshal(data []byte) (Event, error) {
	if len(data) > MaxEventBytes {
		return Event{}, fmt.Errorf("unmarshal event: %w", tooLarge())
	}
	d := decoder{mode: modeBroker}
	if fe := d.run(string(data)); fe != nil {
		return Event{}, fmt.Errorf("unmarshal event: %w", fe)
	}
	return d.ev, nil
}

// UnmarshalJSON implements [encoding/json.Unmarshaler] with [Unmarshal].
func (e *Event) UnmarshalJSON(data []byte) error {
	ev, err := Unmarshal(data)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// objectWriter appends the members of a JSON object.
type objectWriter struct {
	b []byte
	n int // members written
}

func (w *objectWriter) key(f field) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, fieldNames[f]...)
	w.b = append(w.b, '"', ':')
}

func (w *objectWriter) str(f field, v string) {
	if v != "" {
		w.key(f)
		w.b = appendString(w.b, v)
	}
}

func (w *objectWriter) time(f field, e Event) {
	t := e.OccurredAt
	if f == fReceivedAt {
		t = e.ReceivedAt
	}
	if !t.IsZero() {
		w.key(f)
		w.b = append(w.b, '"')
		w.b = appendTime(w.b, t)
		w.b = append(w.b, '"')
	}
}

func (w *objectWriter) money(f field, m Micros, always bool) {
	if m != 0 || always {
		w.key(f)
		w.b = append(w.b, '"')
		w.b = m.appendText(w.b)
		w.b = append(w.b, '"')
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters are escaped
// and invalid UTF-8 becomes U+FFFD, so the output is valid JSON even for an
// Event that never passed validation.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, `\ufffd`...)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
