package events

import (
	"strings"
	"testing"
	"time"
)

// testNow is the server receive time used throughout the tests.
var testNow = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)

const testID = "01890a5d-ac96-774b-bcce-b302099a8057"

func fixedID() string { return testID }

// member is one key and its raw JSON value.
type member struct{ key, raw string }

// object builds test events member by member, keeping key order.
type object []member

// with returns a copy of o with key set to raw, replaced in place or added.
func (o object) with(key, raw string) object {
	c := append(object(nil), o...)
	for i := range c {
		if c[i].key == key {
			c[i].raw = raw
			return c
		}
	}
	return append(c, member{key, raw})
}

// without returns a copy of o lacking key.
func (o object) without(key string) object {
	var c object
	for _, m := range o {
		if m.key != key {
			c = append(c, m)
		}
	}
	return c
}

func (o object) json() []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m.key + `":` + m.raw)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func (o object) has(key string) bool {
	for _, m := range o {
		if m.key == key {
			return true
		}
	}
	return false
}

// q quotes s as a JSON string; test values need no escaping.
func q(s string) string { return `"` + s + `"` }

// mustTime parses an RFC 3339 time for expectations.
func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// sameEvent reports whether a and b hold the same values, comparing times
// as instants.
func sameEvent(a, b Event) bool {
	if !a.OccurredAt.Equal(b.OccurredAt) || !a.ReceivedAt.Equal(b.ReceivedAt) {
		return false
	}
	a.OccurredAt, a.ReceivedAt = time.Time{}, time.Time{}
	b.OccurredAt, b.ReceivedAt = time.Time{}, time.Time{}
	return a == b
}

// typeCase is a valid example of one type, and what Parse makes of it.
type typeCase struct {
	typ      Type
	obj      object
	want     Event
	required []string
}

// typeCases returns one valid example per type.
func typeCases(t testing.TB) []typeCase {
	t.Helper()
	occ := mustTime(t, "2024-03-31T00:30:00Z")
	base := object{{"type", ""}, {"tenant", q("acme")},
		{"occurred_at", q("2024-03-31T02:30:00+02:00")}}
	ev := Event{ID: testID, Tenant: "acme", OccurredAt: occ, ReceivedAt: testNow}
	mk := func(typ Type, extra object, req []string, fill func(*Event)) typeCase {
		e := ev
		e.Type = typ
		fill(&e)
		o := append(base.with("type", q(string(typ))), extra...)
		return typeCase{typ, o, e, append([]string{"type", "tenant", "occurred_at"}, req...)}
	}
	return []typeCase{
		mk(TypeImpression, object{{"id", q("01890A5D-AC96-774B-BCCE-B302099A8057")},
			{"source", q("pixel")}, {"campaign", q("spring")}, {"ad", q("banner-1")},
			{"channel", q("display")}, {"count", "3"}}, []string{"campaign"},
			func(e *Event) {
				e.Source, e.Campaign, e.Ad, e.Channel, e.Count = "pixel", "spring", "banner-1",
					"display", 3
			}),
		mk(TypeClick, object{{"campaign", q("spring")}}, []string{"campaign"},
			func(e *Event) { e.Campaign, e.Count = "spring", 1 }),
		mk(TypeConversion, object{{"campaign", q("spring")}, {"value", q("12.34")},
			{"currency", q("EUR")}, {"customer", q("cus_1")}}, nil,
			func(e *Event) {
				e.Campaign, e.Value, e.Currency, e.Customer = "spring", 12_340_000, "EUR", "cus_1"
				e.Count = 1
			}),
		mk(TypeSignup, object{{"channel", q("newsletter")}, {"customer", q("cus_1")}}, nil,
			func(e *Event) { e.Channel, e.Customer, e.Count = "newsletter", "cus_1", 1 }),
		mk(TypeCost, object{{"campaign", q("spring")}, {"amount", "99.5"},
			{"currency", q("USD")}, {"count", "1000"}}, []string{"campaign", "amount", "currency"},
			func(e *Event) {
				e.Campaign, e.Amount, e.Currency, e.Count = "spring", 99_500_000, "USD", 1000
			}),
		mk(TypeSubscriptionStarted, object{{"customer", q("cus_1")},
			{"subscription", q("sub_1")}, {"plan", q("pro")}, {"amount", q("290.00")},
			{"currency", q("GBP")}, {"interval", q("year")}, {"invoice", q("in_1")}},
			[]string{"customer", "subscription", "amount", "currency"},
			func(e *Event) {
				e.Customer, e.Subscription, e.Plan, e.Amount = "cus_1", "sub_1", "pro", 290_000_000
				e.Currency, e.Interval, e.Invoice = "GBP", IntervalYear, "in_1"
			}),
		mk(TypeSubscriptionChanged, object{{"customer", q("cus_1")},
			{"subscription", q("sub_1")}, {"amount", "0"}, {"currency", q("JPY")}},
			[]string{"customer", "subscription", "amount", "currency"},
			func(e *Event) {
				e.Customer, e.Subscription, e.Currency = "cus_1", "sub_1", "JPY"
				e.Interval = IntervalMonth
			}),
		mk(TypeSubscriptionCanceled, object{{"customer", q("cus_1")},
			{"subscription", q("sub_1")}}, []string{"customer", "subscription"},
			func(e *Event) { e.Customer, e.Subscription = "cus_1", "sub_1" }),
		mk(TypeInvoicePaid, object{{"customer", q("cus_1")}, {"amount", q("0.000001")},
			{"currency", q("CHF")}, {"invoice", q("in_1")}, {"subscription", q("sub_1")}},
			[]string{"customer", "amount", "currency"},
			func(e *Event) {
				e.Customer, e.Amount, e.Currency, e.Invoice = "cus_1", 1, "CHF", "in_1"
				e.Subscription = "sub_1"
			}),
		mk(TypeRefund, object{{"customer", q("cus_1")}, {"amount", "12"},
			{"currency", q("EUR")}}, []string{"customer", "amount", "currency"},
			func(e *Event) { e.Customer, e.Amount, e.Currency = "cus_1", 12_000_000, "EUR" }),
	}
}
