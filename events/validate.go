package events

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Reasons given for rejected values.
var (
	reasonType   = "must be one of " + strings.Join(typeNames(), ", ")
	reasonID     = "must be a UUID such as 01890a5d-ac96-774b-bcce-b302099a8057"
	reasonTenant = fmt.Sprintf("must be an ASCII letter or digit followed by at most "+
		"%d letters, digits, '_' or '-'", MaxTenantLen-1)
	reasonCurrency = "must be an upper-case ISO 4217 currency code such as USD"
	reasonInterval = `must be "month" or "year"`
	reasonEarly    = "must not be before 2000-01-01T00:00:00Z"
	reasonLate     = fmt.Sprintf("must not be more than %d hours after the server's receive time",
		MaxFutureSkew/time.Hour)
)

func typeNames() []string {
	names := make([]string, len(allTypes))
	for i, t := range allTypes {
		names[i] = string(t)
	}
	return names
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
			return fieldError(f, reasonTenant)
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
