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
	reasonCurrency  = "must be an upper-case ISO 4217 currency code such as USD"
	reasonInterval  = `must be "month" or "year"`
	reasonStage     = `must be "mql" or "sql"`
	reasonSentiment = `must be "positive", "neutral" or "negative"`
	reasonEarly     = "must not be before 2000-01-01T00:00:00Z"
	reasonLate      = fmt.Sprintf("must not be more than %d hours after the server's receive time",
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
	if d.defaultTenant != "" && !d.present.has(fTenant) {
		d.vals[fTenant] = d.defaultTenant
		d.present |= setOf(fTenant)
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
	if d.present.has(fPosition) && d.ev.Position == 0 {
		return fieldError(fPosition, "must be greater than 0")
	}
	return nil
}

// decodeField validates the non-empty value v of field f into d.ev.
func (d *decoder) decodeField(f field, v string) *FieldError {
	switch kindOf(f) {
	case kindInteger:
		return d.decodeInteger(f, v)
	case kindDecimal:
		return d.decodeDecimal(f, v)
	case kindBool:
		d.ev.Billable = v == "true"
		return nil
	}
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
	case fCurrency:
		if !IsCurrency(v) {
			return fieldError(f, reasonCurrency)
		}
		d.ev.Currency = v
	case fInterval:
		return d.decodeEnum(f, v, &d.ev.Interval, reasonInterval, IntervalMonth, IntervalYear)
	case fStage:
		return d.decodeEnum(f, v, &d.ev.Stage, reasonStage, StageMQL, StageSQL)
	case fSentiment:
		return d.decodeEnum(f, v, &d.ev.Sentiment, reasonSentiment,
			SentimentPositive, SentimentNeutral, SentimentNegative)
	default:
		return d.decodeText(f, v)
	}
	return nil
}

// decodeEnum stores v in dst if it is one of the allowed values.
func (d *decoder) decodeEnum(f field, v string, dst *string, reason string,
	allowed ...string) *FieldError {
	for _, a := range allowed {
		if v == a {
			*dst = a
			return nil
		}
	}
	return fieldError(f, reason)
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

// intRange returns the smallest and largest value of an integer field.
func intRange(f field) (int64, int64) {
	switch f {
	case fCount:
		return 1, MaxCount
	case fRank:
		return 1, MaxRank
	case fScore:
		return 0, MaxScore
	}
	return 0, MaxCount
}

// decodeInteger parses an integer field from the text of a JSON number.
func (d *decoder) decodeInteger(f field, v string) *FieldError {
	lo, hi := intRange(f)
	switch {
	case v[0] == '-' || lo > 0 && strings.Trim(v, "0") == "":
		return fieldError(f, fmt.Sprintf("must be at least %d", lo))
	case !isDigits(v):
		return fieldError(f, "must be a whole number without fraction or exponent")
	case len(v) > len("1000000000000"):
		return fieldError(f, fmt.Sprintf("must be at most %d", hi))
	}
	var n int64
	for i := 0; i < len(v); i++ {
		n = n*10 + int64(v[i]-'0')
	}
	if n > hi {
		return fieldError(f, fmt.Sprintf("must be at most %d", hi))
	}
	*d.ev.integer(f) = n
	return nil
}

// decodeDecimal parses money, hours or a position exactly.
func (d *decoder) decodeDecimal(f field, v string) *FieldError {
	m, err := ParseMicros(v)
	if err != nil {
		return fieldError(f, err.Error())
	}
	*d.ev.decimal(f) = m
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
	case fURL:
		return &e.URL, MaxURLLen
	case fReferrer:
		return &e.Referrer, MaxURLLen
	}
	if p := e.catalogueText(f); p != nil {
		return p, textLimit(f)
	}
	panic("events: no text field " + f.String())
}

// catalogueText returns where the catalogue's free-form names are stored.
func (e *Event) catalogueText(f field) *string {
	switch f {
	case fCategory:
		return &e.Category
	case fEventName:
		return &e.EventName
	case fLead:
		return &e.Lead
	case fSession:
		return &e.Session
	case fVisitor:
		return &e.Visitor
	case fUTMSource:
		return &e.UTMSource
	case fUTMMedium:
		return &e.UTMMedium
	case fUTMCampaign:
		return &e.UTMCampaign
	case fAccount:
		return &e.Account
	case fKeyword:
		return &e.Keyword
	case fEngine:
		return &e.Engine
	case fPerson:
		return &e.Person
	case fTeam:
		return &e.Team
	case fProject:
		return &e.Project
	}
	return nil
}

// textLimit is the byte limit of a catalogue name: ids get MaxIDLen.
func textLimit(f field) int {
	switch f {
	case fLead, fSession, fVisitor, fPerson, fProject:
		return MaxIDLen
	}
	return MaxStringLen
}

// integer returns where an integer field is stored.
func (e *Event) integer(f field) *int64 {
	switch f {
	case fCount:
		return &e.Count
	case fFollowers:
		return &e.Followers
	case fReach:
		return &e.Reach
	case fRank:
		return &e.Rank
	case fScore:
		return &e.Score
	}
	panic("events: no integer field " + f.String())
}

// decimal returns where a decimal field is stored.
func (e *Event) decimal(f field) *Micros {
	switch f {
	case fValue:
		return &e.Value
	case fAmount:
		return &e.Amount
	case fPosition:
		return &e.Position
	case fHours:
		return &e.Hours
	}
	panic("events: no decimal field " + f.String())
}

// ValidTenant reports whether s is a tenant [Parse] accepts: an ASCII
// letter or digit followed by up to 63 letters, digits, '_' or '-'.
func ValidTenant(s string) bool { return validTenant(s) }

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
