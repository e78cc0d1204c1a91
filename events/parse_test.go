package events

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	for _, tc := range typeCases(t) {
		t.Run(string(tc.typ), func(t *testing.T) {
			got, fe := Parse(tc.obj.json(), testNow, fixedID)
			if fe != nil {
				t.Fatalf("Parse(%s) error: %v", tc.obj.json(), fe)
			}
			if !sameEvent(got, tc.want) {
				t.Errorf("Parse(%s)\n got %+v\nwant %+v", tc.obj.json(), got, tc.want)
			}
		})
	}
}

func TestParseCoversEveryType(t *testing.T) {
	cases := typeCases(t)
	if got, want := len(cases), len(Types()); got != want {
		t.Fatalf("type cases: got %d, want %d", got, want)
	}
	for i, typ := range Types() {
		if got, want := cases[i].typ, typ; got != want {
			t.Errorf("case %d: got %s, want %s", i, got, want)
		}
	}
}

// rejectCase is an input Parse must reject, naming wantField.
type rejectCase struct {
	name      string
	data      []byte
	wantField string
}

func checkRejects(t *testing.T, cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, fe := Parse(tc.data, testNow, fixedID)
			if fe == nil {
				t.Fatalf("Parse(%s) = %+v, want error on %q", tc.data, ev, tc.wantField)
			}
			if got, want := fe.Field, tc.wantField; got != want {
				t.Errorf("Parse(%s) field: got %q (%s), want %q", tc.data, got, fe.Reason, want)
			}
			if fe.Reason == "" {
				t.Errorf("Parse(%s): empty reason", tc.data)
			}
			if got, want := fe.Index, 0; got != want {
				t.Errorf("Parse(%s) index: got %d, want %d", tc.data, got, want)
			}
		})
	}
}

// TestParseRejectsPerType runs the generic faults against every type.
func TestParseRejectsPerType(t *testing.T) {
	for _, tc := range typeCases(t) {
		t.Run(string(tc.typ), func(t *testing.T) {
			checkRejects(t, genericRejects(tc))
		})
	}
}

// genericRejects derives faulty variants of a valid example.
func genericRejects(tc typeCase) []rejectCase {
	var cases []rejectCase
	add := func(name string, o object, field string) {
		cases = append(cases, rejectCase{name, o.json(), field})
	}
	for _, key := range tc.required {
		add("missing "+key, tc.obj.without(key), key)
		add("empty "+key, tc.obj.with(key, `""`), key)
		add("null "+key, tc.obj.with(key, `null`), key)
	}
	for _, m := range tc.obj {
		switch m.key {
		case "count", "followers", "reach", "rank", "score":
			add("string "+m.key, tc.obj.with(m.key, `"3"`), m.key)
			add("fraction "+m.key, tc.obj.with(m.key, `3.5`), m.key)
		case "billable":
			add("string billable", tc.obj.with(m.key, `"true"`), m.key)
			add("number billable", tc.obj.with(m.key, `1`), m.key)
		case "amount", "value", "hours", "position":
			add("bool "+m.key, tc.obj.with(m.key, `true`), m.key)
			add("object "+m.key, tc.obj.with(m.key, `{}`), m.key)
		default:
			add("number "+m.key, tc.obj.with(m.key, `42`), m.key)
			add("array "+m.key, tc.obj.with(m.key, `["x"]`), m.key)
		}
	}
	add("unknown field", tc.obj.with("campaing", q("x")), "campaing")
	add("bad tenant", tc.obj.with("tenant", q("acme.eu")), "tenant")
	add("day out of range", tc.obj.with("occurred_at", q("2024-02-30T00:00:00Z")), "occurred_at")
	add("missing offset", tc.obj.with("occurred_at", q("2024-03-01T00:00:00")), "occurred_at")
	add("before 2000", tc.obj.with("occurred_at", q("1999-12-31T23:59:59.999Z")), "occurred_at")
	add("too far ahead", tc.obj.with("occurred_at", q("2024-04-02T12:00:00.001Z")), "occurred_at")
	add("duplicate tenant", append(tc.obj, member{"tenant", q("other")}), "tenant")
	foreign := foreignField(tc.typ)
	add("not allowed "+foreign, tc.obj.with(foreign, q("1")), foreign)
	add("not allowed null "+foreign, tc.obj.with(foreign, "null"), foreign)
	return cases
}

// foreignField returns a field that type typ does not allow.
func foreignField(typ Type) string {
	allowed := names(ruleFor(typ).allowed)
	for _, f := range []string{"amount", "customer", "campaign", "interval", "lead"} {
		if !slices.Contains(allowed, f) {
			return f
		}
	}
	panic("no foreign field for " + string(typ))
}

func TestParseRejects(t *testing.T) {
	click := object{{"type", q("click")}, {"tenant", q("acme")},
		{"occurred_at", q("2024-03-31T00:00:00Z")}, {"campaign", q("spring")}}
	cost := click.with("type", q("cost")).with("amount", q("1.50")).with("currency", q("USD"))
	conv := click.with("type", q("conversion"))
	long := strings.Repeat("x", MaxStringLen+1)
	checkRejects(t, []rejectCase{
		{"count zero", click.with("count", "0").json(), "count"},
		{"count negative", click.with("count", "-5").json(), "count"},
		{"count fraction", click.with("count", "1.5").json(), "count"},
		{"count exponent", click.with("count", "1e3").json(), "count"},
		{"count too big", click.with("count", "1000000000001").json(), "count"},
		{"count huge", click.with("count", "99999999999999999999999").json(), "count"},
		{"money 7 decimals", cost.with("amount", q("1.1234567")).json(), "amount"},
		{"money 7 decimals number", cost.with("amount", "1.1234567").json(), "amount"},
		{"money negative", cost.with("amount", q("-0.5")).json(), "amount"},
		{"money negative number", cost.with("amount", "-0.5").json(), "amount"},
		{"money exponent string", cost.with("amount", q("1e3")).json(), "amount"},
		{"money exponent number", cost.with("amount", "1e3").json(), "amount"},
		{"money NaN string", cost.with("amount", q("NaN")).json(), "amount"},
		{"money NaN literal", cost.with("amount", "NaN").json(), "amount"},
		{"money Infinity", cost.with("amount", q("Infinity")).json(), "amount"},
		{"money huge", cost.with("amount", "99999999999999999999").json(), "amount"},
		{"money just over max", cost.with("amount", "9223372036854.775808").json(), "amount"},
		{"money spaces", cost.with("amount", q(" 1.00")).json(), "amount"},
		{"money leading zero", cost.with("amount", q("01.00")).json(), "amount"},
		{"money trailing dot", cost.with("amount", q("1.")).json(), "amount"},
		{"money comma", cost.with("amount", q("1,50")).json(), "amount"},
		{"currency lower case", cost.with("currency", q("usd")).json(), "currency"},
		{"currency unknown", cost.with("currency", q("ABC")).json(), "currency"},
		{"currency testing code", cost.with("currency", q("XTS")).json(), "currency"},
		{"currency number", cost.with("currency", "840").json(), "currency"},
		{"value without currency", conv.with("value", q("5")).json(), "currency"},
		{"amount without currency", cost.without("currency").json(), "currency"},
		{"amount on click", click.with("amount", q("1")).json(), "amount"},
		{"interval on cost", cost.with("interval", q("month")).json(), "interval"},
		{"received_at number", click.with("received_at", "1").json(), "received_at"},
		{"type unknown", click.with("type", q("purchase")).json(), "type"},
		{"type upper case", click.with("type", q("CLICK")).json(), "type"},
		{"tenant leading dash", click.with("tenant", q("-acme")).json(), "tenant"},
		{"tenant space", click.with("tenant", q("ac me")).json(), "tenant"},
		{"tenant wildcard", click.with("tenant", q("acme*")).json(), "tenant"},
		{"tenant too long", click.with("tenant", q(strings.Repeat("a", 65))).json(), "tenant"},
		{"tenant non-ASCII", click.with("tenant", q("acmé")).json(), "tenant"},
		{"id not a UUID", click.with("id", q("evt-1")).json(), "id"},
		{"id nil UUID", click.with("id", q(nilUUID)).json(), "id"},
		{"id number", click.with("id", "7").json(), "id"},
		{"time lower bound", click.with("occurred_at", q("1999-12-31T23:59:59Z")).json(),
			"occurred_at"},
		{"time offset pushes before 2000",
			click.with("occurred_at", q("2000-01-01T00:30:00+01:00")).json(), "occurred_at"},
		{"time future via offset",
			click.with("occurred_at", q("2024-04-02T10:00:00-02:01")).json(), "occurred_at"},
		{"time no seconds", click.with("occurred_at", q("2024-03-31T00:00Z")).json(),
			"occurred_at"},
		{"time space separator", click.with("occurred_at", q("2024-03-31 00:00:00Z")).json(),
			"occurred_at"},
		{"time offset without colon",
			click.with("occurred_at", q("2024-03-31T00:00:00+0200")).json(), "occurred_at"},
		{"time hour 24", click.with("occurred_at", q("2024-03-31T24:00:00Z")).json(),
			"occurred_at"},
		{"time leap second", click.with("occurred_at", q("2016-12-31T23:59:60Z")).json(),
			"occurred_at"},
		{"time Feb 29 non-leap", click.with("occurred_at", q("2023-02-29T00:00:00Z")).json(),
			"occurred_at"},
		{"time empty fraction", click.with("occurred_at", q("2024-03-31T00:00:00.Z")).json(),
			"occurred_at"},
		{"time unix seconds", click.with("occurred_at", "1711843200").json(), "occurred_at"},
		{"invalid UTF-8", click.with("campaign", "\"spr\xffing\"").json(), "campaign"},
		{"raw control character", click.with("campaign", "\"a\x01b\"").json(), "campaign"},
		{"escaped newline", click.with("campaign", `"a\nb"`).json(), "campaign"},
		{"escaped C1 control", click.with("campaign", `"a\u0085b"`).json(), "campaign"},
		{"DEL", click.with("campaign", "\"a\x7fb\"").json(), "campaign"},
		{"lone surrogate", click.with("campaign", `"\ud800"`).json(), "campaign"},
		{"bad escape", click.with("campaign", `"\x41"`).json(), "campaign"},
		{"unterminated string", []byte(`{"type":"click","campaign":"abc`), "campaign"},
		{"campaign too long", click.with("campaign", q(long)).json(), "campaign"},
		{"ad too long", click.with("ad", q(long)).json(), "ad"},
		{"channel too long", click.with("channel", q(long)).json(), "channel"},
		{"source too long", click.with("source", q(long[:MaxSourceLen+1])).json(), "source"},
		{"customer too long", conv.with("customer", q(long)).json(), "customer"},
		{"multibyte over limit", click.with("campaign", q(strings.Repeat("é", 129))).json(),
			"campaign"},
		{"invalid number", click.with("count", "-").json(), "count"},
		{"true as string", click.with("campaign", "true").json(), "campaign"},
		{"unknown field null", click.with("extra", "null").json(), "extra"},
		{"unknown field escaped", click.with(`\u0063ampaign2`, q("x")).json(), "campaign2"},
		{"long unknown field", click.with(strings.Repeat("k", 100), "1").json(),
			strings.Repeat("k", 64) + "..."},
	})
}

func TestParseRejectsWhole(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ``},
		{"array", `[]`},
		{"string", `"click"`},
		{"trailing comma", `{"type":"click",}`},
		{"missing colon", `{"type" "click"}`},
		{"unterminated", `{"type":"click"`},
		{"trailing data", `{"type":"click"} {}`},
		{"single quotes", `{'type':'click'}`},
		{"key not string", `{type:"click"}`},
		{"bad key escape", `{"\q":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, fe := Parse([]byte(tc.data), testNow, fixedID)
			if fe == nil {
				t.Fatalf("Parse(%q) accepted", tc.data)
			}
			if got, want := fe.Field, ""; got != want {
				t.Errorf("Parse(%q) field: got %q, want %q", tc.data, got, want)
			}
			if fe.Reason == "" {
				t.Errorf("Parse(%q): empty reason", tc.data)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	data := append([]byte(`{"type":"click"`), make([]byte, MaxEventBytes)...)
	_, fe := Parse(data, testNow, fixedID)
	if fe == nil || fe.Field != "" {
		t.Fatalf("Parse(%d bytes): got %v, want a whole-event error", len(data), fe)
	}
}

func TestParseTimes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"offset", "2024-03-31T02:30:00+02:00", "2024-03-31T00:30:00Z"},
		{"negative offset", "2024-03-30T19:30:00-05:00", "2024-03-31T00:30:00Z"},
		{"odd offset", "2024-03-31T06:15:00+05:45", "2024-03-31T00:30:00Z"},
		{"offset crosses year", "2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00Z"},
		{"fraction truncated", "2024-03-31T00:30:00.123999Z", "2024-03-31T00:30:00.123Z"},
		{"nanoseconds", "2024-03-31T00:30:00.999999999Z", "2024-03-31T00:30:00.999Z"},
		{"beyond nanoseconds", "2024-03-31T00:30:00.12345678912345Z",
			"2024-03-31T00:30:00.123Z"},
		{"short fraction", "2024-03-31T00:30:00.5Z", "2024-03-31T00:30:00.5Z"},
		{"lower case", "2024-03-31t00:30:00z", "2024-03-31T00:30:00Z"},
		{"minus zero offset", "2024-03-31T00:30:00-00:00", "2024-03-31T00:30:00Z"},
		{"leap day", "2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
		{"lower bound", "2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"},
		{"lower bound via offset", "1999-12-31T23:00:00-01:00", "2000-01-01T00:00:00Z"},
		{"upper bound", "2024-04-02T12:00:00Z", "2024-04-02T12:00:00Z"},
		{"upper bound sub-ms", "2024-04-02T12:00:00.000999Z", "2024-04-02T12:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := object{{"type", q("click")}, {"tenant", q("a")}, {"occurred_at", q(tc.in)},
				{"campaign", q("c")}}
			ev, fe := Parse(o.json(), testNow, fixedID)
			if fe != nil {
				t.Fatalf("Parse(occurred_at %s): %v", tc.in, fe)
			}
			if got, want := ev.OccurredAt, mustTime(t, tc.want); !got.Equal(want) {
				t.Errorf("occurred_at %s: got %v, want %v", tc.in, got, want)
			}
			if got, want := ev.OccurredAt.Location(), time.UTC; got != want {
				t.Errorf("occurred_at %s location: got %v, want %v", tc.in, got, want)
			}
		})
	}
}

func TestParseReceivedAt(t *testing.T) {
	now := time.Date(2024, 4, 1, 12, 0, 0, 123_456_789, time.FixedZone("X", 3600))
	o := object{{"type", q("click")}, {"tenant", q("a")},
		{"occurred_at", q("2024-03-31T00:00:00Z")}, {"campaign", q("c")},
		{"received_at", q("1970-01-01T00:00:00Z")}}
	ev, fe := Parse(o.json(), now, fixedID)
	if fe != nil {
		t.Fatal(fe)
	}
	want := time.Date(2024, 4, 1, 11, 0, 0, 123_000_000, time.UTC)
	if got := ev.ReceivedAt; !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ReceivedAt: got %v, want %v", got, want)
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		name      string
		id        string // raw JSON, "" for absent
		wantID    string
		wantCalls int
	}{
		{"absent", "", testID, 1},
		{"null", "null", testID, 1},
		{"empty", `""`, testID, 1},
		{"canonical v4", q("f47ac10b-58cc-4372-a567-0e02b2c3d479"),
			"f47ac10b-58cc-4372-a567-0e02b2c3d479", 0},
		{"upper case", q("F47AC10B-58CC-4372-A567-0E02B2C3D479"),
			"f47ac10b-58cc-4372-a567-0e02b2c3d479", 0},
		{"no hyphens", q("f47ac10b58cc4372a5670e02b2c3d479"),
			"f47ac10b-58cc-4372-a567-0e02b2c3d479", 0},
		{"braces", q("{f47ac10b-58cc-4372-a567-0e02b2c3d479}"),
			"f47ac10b-58cc-4372-a567-0e02b2c3d479", 0},
		{"urn", q("urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479"),
			"f47ac10b-58cc-4372-a567-0e02b2c3d479", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := object{{"type", q("click")}, {"tenant", q("a")},
				{"occurred_at", q("2024-03-31T00:00:00Z")}, {"campaign", q("c")}}
			if tc.id != "" {
				o = o.with("id", tc.id)
			}
			calls := 0
			ev, fe := Parse(o.json(), testNow, func() string { calls++; return testID })
			if fe != nil {
				t.Fatal(fe)
			}
			if got, want := ev.ID, tc.wantID; got != want {
				t.Errorf("ID: got %q, want %q", got, want)
			}
			if got, want := calls, tc.wantCalls; got != want {
				t.Errorf("newID calls: got %d, want %d", got, want)
			}
		})
	}
}

func TestParseDefaultIDIsV7(t *testing.T) {
	o := object{{"type", q("click")}, {"tenant", q("a")},
		{"occurred_at", q("2024-03-31T00:00:00Z")}, {"campaign", q("c")}}
	ev, fe := Parse(o.json(), testNow, nil)
	if fe != nil {
		t.Fatal(fe)
	}
	if !isCanonicalUUID(ev.ID) || ev.ID[14] != '7' {
		t.Errorf("ID: got %q, want a canonical version 7 UUID", ev.ID)
	}
}

func TestParseAccepts(t *testing.T) {
	click := object{{"type", q("click")}, {"tenant", q("acme")},
		{"occurred_at", q("2024-03-31T00:00:00Z")}, {"campaign", q("spring")}}
	cost := click.with("type", q("cost")).with("amount", q("1.50")).with("currency", q("USD"))
	tests := []struct {
		name  string
		data  []byte
		check func(Event) bool
	}{
		{"escaped text", click.with("campaign", `"caf\u00e9 \"q\" \/ \ud83d\ude00"`).json(),
			func(e Event) bool { return e.Campaign == "café \"q\" / 😀" }},
		{"raw UTF-8", click.with("campaign", q("日本語")).json(),
			func(e Event) bool { return e.Campaign == "日本語" }},
		{"escaped key", click.with(`\u0061d`, q("x")).json(),
			func(e Event) bool { return e.Ad == "x" }},
		{"whitespace", []byte(" \r\n\t{ \"type\" : \"click\" , \"tenant\":\"a\",\n" +
			"\"occurred_at\":\"2024-03-31T00:00:00Z\",\"campaign\":\"c\" } \n"),
			func(e Event) bool { return e.Campaign == "c" }},
		{"max count", click.with("count", "1000000000000").json(),
			func(e Event) bool { return e.Count == MaxCount }},
		{"money max", cost.with("amount", "9223372036854.775807").json(),
			func(e Event) bool { return e.Amount == 1<<63-1 }},
		{"money integer", cost.with("amount", "7").json(),
			func(e Event) bool { return e.Amount == 7_000_000 }},
		{"money zero", cost.with("amount", q("0.0")).json(),
			func(e Event) bool { return e.Amount == 0 }},
		{"currency withdrawn", cost.with("currency", q("HRK")).json(),
			func(e Event) bool { return e.Currency == "HRK" }},
		{"currency without value", click.with("type", q("conversion")).
			with("currency", q("EUR")).json(),
			func(e Event) bool { return e.Currency == "EUR" && e.Value == 0 }},
		{"null optional", click.with("ad", "null").json(),
			func(e Event) bool { return e.Ad == "" }},
		{"tenant max", click.with("tenant", q("A"+strings.Repeat("_-9z", 15)+"abc")).json(),
			func(e Event) bool { return len(e.Tenant) == MaxTenantLen }},
		{"campaign at limit", click.with("campaign", q(strings.Repeat("x", 256))).json(),
			func(e Event) bool { return len(e.Campaign) == MaxStringLen }},
		{"U+FFFD itself", click.with("campaign", q("\uFFFD")).json(),
			func(e Event) bool { return e.Campaign == "\uFFFD" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, fe := Parse(tc.data, testNow, fixedID)
			if fe != nil {
				t.Fatalf("Parse(%s): %v", tc.data, fe)
			}
			if !tc.check(ev) {
				t.Errorf("Parse(%s): unexpected event %+v", tc.data, ev)
			}
		})
	}
}
