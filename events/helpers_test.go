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
	cases := []typeCase{
		mk(TypeImpression, object{{"id", q("01890A5D-AC96-774B-BCCE-B302099A8057")},
			{"source", q("pixel")}, {"campaign", q("spring")}, {"ad", q("banner-1")},
			{"channel", q("display")}, {"count", "3"}, {"position", "1.5"}}, []string{"campaign"},
			func(e *Event) {
				e.Source, e.Campaign, e.Ad, e.Channel, e.Count = "pixel", "spring", "banner-1",
					"display", 3
				e.Position = 1_500_000
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
	return append(cases, catalogueCases(mk)...)
}

// catalogueCases returns one valid example of each type the KPI catalogue
// added, in the order of Types.
func catalogueCases(mk func(Type, object, []string, func(*Event)) typeCase) []typeCase {
	return []typeCase{
		mk(TypeExpense, object{{"amount", q("1200")}, {"currency", q("EUR")},
			{"category", q("marketing")}, {"team", q("design")}},
			[]string{"amount", "currency", "category"},
			func(e *Event) {
				e.Amount, e.Currency, e.Category, e.Team = 1_200_000_000, "EUR", "marketing", "design"
			}),
		mk(TypeUpsellOffered, object{{"customer", q("cus_1")}, {"plan", q("pro")}},
			[]string{"customer"}, func(e *Event) { e.Customer, e.Plan = "cus_1", "pro" }),
		mk(TypeUpsellAccepted, object{{"customer", q("cus_1")}, {"amount", "20"},
			{"currency", q("USD")}}, []string{"customer"},
			func(e *Event) { e.Customer, e.Amount, e.Currency = "cus_1", 20_000_000, "USD" }),
		mk(TypeEventRegistration, object{{"event_name", q("summit")}, {"customer", q("c9")}},
			[]string{"event_name"},
			func(e *Event) { e.EventName, e.Customer, e.Count = "summit", "c9", 1 }),
		mk(TypeEventAttendance, object{{"event_name", q("summit")}, {"count", "40"}},
			[]string{"event_name"}, func(e *Event) { e.EventName, e.Count = "summit", 40 }),
		mk(TypeLeadCreated, object{{"lead", q("l1")}, {"campaign", q("spring")}},
			[]string{"lead"}, func(e *Event) { e.Lead, e.Campaign = "l1", "spring" }),
		mk(TypeLeadQualified, object{{"lead", q("l1")}, {"stage", q("sql")}},
			[]string{"lead", "stage"}, func(e *Event) { e.Lead, e.Stage = "l1", StageSQL }),
		mk(TypeOpportunityCreated, object{{"lead", q("l1")}}, []string{"lead"},
			func(e *Event) { e.Lead = "l1" }),
		mk(TypeDealWon, object{{"lead", q("l1")}, {"customer", q("cus_1")},
			{"amount", q("5000")}, {"currency", q("EUR")}}, []string{"lead"},
			func(e *Event) {
				e.Lead, e.Customer, e.Amount, e.Currency = "l1", "cus_1", 5_000_000_000, "EUR"
			}),
		mk(TypeDealLost, object{{"lead", q("l2")}}, []string{"lead"},
			func(e *Event) { e.Lead = "l2" }),
		mk(TypePageView, object{{"visitor", q("v1")}, {"session", q("s1")},
			{"url", q("https://acme.example/pricing?x=1")},
			{"referrer", q("https://www.google.com/")}, {"utm_source", q("newsletter")},
			{"utm_medium", q("email")}, {"utm_campaign", q("may")}},
			[]string{"visitor", "url"},
			func(e *Event) {
				e.Visitor, e.Session, e.URL = "v1", "s1", "https://acme.example/pricing?x=1"
				e.Referrer, e.UTMSource = "https://www.google.com/", "newsletter"
				e.UTMMedium, e.UTMCampaign = "email", "may"
			}),
		mk(TypeFollowerSnapshot, object{{"account", q("@acme")}, {"followers", "0"},
			{"channel", q("instagram")}}, []string{"account", "followers"},
			func(e *Event) { e.Account, e.Channel = "@acme", "instagram" }),
		mk(TypeMention, object{{"channel", q("twitter")}, {"sentiment", q("negative")},
			{"reach", "1500"}}, nil,
			func(e *Event) { e.Channel, e.Sentiment, e.Reach, e.Count = "twitter", "negative", 1500, 1 }),
		mk(TypeKeywordRank, object{{"keyword", q("crm agency")}, {"engine", q("google")},
			{"rank", "3"}}, []string{"keyword", "engine", "rank"},
			func(e *Event) { e.Keyword, e.Engine, e.Rank = "crm agency", "google", 3 }),
		mk(TypeTimeLogged, object{{"person", q("ana")}, {"team", q("design")},
			{"hours", "7.5"}, {"billable", "true"}}, []string{"person", "hours"},
			func(e *Event) { e.Person, e.Team, e.Hours, e.Billable = "ana", "design", 7_500_000, true }),
		mk(TypeProjectEstimate, object{{"project", q("site")}, {"hours", q("120")},
			{"amount", "9000"}, {"currency", q("EUR")}}, []string{"project", "hours"},
			func(e *Event) {
				e.Project, e.Hours, e.Amount, e.Currency = "site", 120_000_000, 9_000_000_000, "EUR"
			}),
		mk(TypeProjectCompleted, object{{"project", q("site")}, {"hours", "0"}},
			[]string{"project", "hours"}, func(e *Event) { e.Project = "site" }),
		mk(TypeSurveyResponse, object{{"score", "0"}, {"team", q("design")}},
			[]string{"score"}, func(e *Event) { e.Team = "design" }),
	}
}
