package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range typeCases(t) {
		t.Run(string(tc.typ), func(t *testing.T) {
			data, err := Marshal(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(data)
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if !sameEvent(got, tc.want) {
				t.Errorf("round trip of %s\n got %+v\nwant %+v", data, got, tc.want)
			}
			if got != tc.want {
				t.Errorf("round trip of %s is not == to the original", data)
			}
		})
	}
}

func TestMarshalCanonical(t *testing.T) {
	ev := Event{
		ID: testID, Type: TypeSubscriptionStarted, Tenant: "acme",
		OccurredAt: time.Date(2024, 3, 31, 0, 30, 0, 5_000_000, time.UTC),
		ReceivedAt: time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC),
		Customer:   "cus_\"1\"", Subscription: "sub_1", Amount: 29_900_000, Currency: "EUR",
		Interval: IntervalMonth,
	}
	want := `{"id":"` + testID + `","type":"subscription_started","tenant":"acme",` +
		`"occurred_at":"2024-03-31T00:30:00.005Z","received_at":"2024-04-01T12:00:00.000Z",` +
		`"amount":"29.90","currency":"EUR","customer":"cus_\"1\"","subscription":"sub_1",` +
		`"interval":"month"}`
	got, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Marshal:\n got %s\nwant %s", got, want)
	}
	viaJSON, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(viaJSON) != want {
		t.Errorf("json.Marshal:\n got %s\nwant %s", viaJSON, want)
	}
}

func TestMarshalZeroAmountKept(t *testing.T) {
	ev := Event{Type: TypeRefund, Currency: "EUR"}
	got, _ := Marshal(ev)
	if !strings.Contains(string(got), `"amount":"0.00"`) {
		t.Errorf("Marshal(%+v): got %s, want a zero amount", ev, got)
	}
}

func TestMarshalEscapes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"control", "a\nb\x00", `"a\u000ab\u0000"`},
		{"invalid UTF-8", "a\xffb", `"a\ufffdb"`},
		{"multibyte", "日本", `"日本"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendString(nil, tc.in))
			if got != tc.want {
				t.Errorf("appendString(%q): got %s, want %s", tc.in, got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("appendString(%q) = %s is not valid JSON", tc.in, got)
			}
		})
	}
}

func TestUnmarshalJSON(t *testing.T) {
	tc := typeCases(t)[4]
	data, _ := Marshal(tc.want)
	var wrapped struct {
		Events []Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(`{"events":[`+string(data)+`]}`), &wrapped); err != nil {
		t.Fatal(err)
	}
	if len(wrapped.Events) != 1 || wrapped.Events[0] != tc.want {
		t.Errorf("json.Unmarshal: got %+v, want [%+v]", wrapped.Events, tc.want)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	valid := object{{"id", q(testID)}, {"type", q("click")}, {"tenant", q("a")},
		{"occurred_at", q("2024-03-31T00:00:00.000Z")},
		{"received_at", q("2024-03-31T00:00:01.000Z")}, {"campaign", q("c")}, {"count", "1"}}
	if _, err := Unmarshal(valid.json()); err != nil {
		t.Fatalf("Unmarshal(%s): %v", valid.json(), err)
	}
	tests := []struct {
		name      string
		data      []byte
		wantField string
	}{
		{"garbage", []byte("\x00\x01garbage"), ""},
		{"empty", nil, ""},
		{"truncated", valid.json()[:40], "id"},
		{"missing id", valid.without("id").json(), "id"},
		{"missing received_at", valid.without("received_at").json(), "received_at"},
		{"bad received_at", valid.with("received_at", q("yesterday")).json(), "received_at"},
		{"unknown field", valid.with("extra", "1").json(), "extra"},
		{"bad money", valid.with("type", q("cost")).with("amount", q("x")).
			with("currency", q("USD")).json(), "amount"},
		{"too large", append(valid.json(), make([]byte, MaxEventBytes)...), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.data)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Unmarshal(%q): got %v, want a *FieldError", tc.data, err)
			}
			if got, want := fe.Field, tc.wantField; got != want {
				t.Errorf("Unmarshal(%q) field: got %q (%s), want %q", tc.data, got, fe.Reason,
					want)
			}
		})
	}
}

// TestUnmarshalSkipsWindow checks that broker messages are not judged by
// a clock: an old ingest window must not make stored events unreadable.
func TestUnmarshalSkipsWindow(t *testing.T) {
	o := object{{"id", q(testID)}, {"type", q("click")}, {"tenant", q("a")},
		{"occurred_at", q("1999-01-01T00:00:00.000Z")},
		{"received_at", q("2024-03-31T00:00:01.000Z")}, {"campaign", q("c")}}
	if _, err := Unmarshal(o.json()); err != nil {
		t.Errorf("Unmarshal(%s): %v", o.json(), err)
	}
}

func TestFieldErrorError(t *testing.T) {
	tests := []struct {
		name string
		in   FieldError
		want string
	}{
		{"field", FieldError{Index: 3, Field: "amount", Reason: "must not be negative"},
			`event 3: field "amount": must not be negative`},
		{"whole", FieldError{Index: 0, Reason: "must be a JSON object"},
			"event 0: must be a JSON object"},
	}
	for _, tc := range tests {
		if got := tc.in.Error(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRoundTripWallClock checks == equality when now carries a monotonic
// clock reading, as time.Now does in the server.
func TestRoundTripWallClock(t *testing.T) {
	now := time.Now()
	o := object{{"type", q("click")}, {"tenant", q("a")},
		{"occurred_at", q(now.Format(time.RFC3339Nano))}, {"campaign", q("c")}}
	ev, fe := Parse(o.json(), now, nil)
	if fe != nil {
		t.Fatal(fe)
	}
	data, _ := Marshal(ev)
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if got != ev {
		t.Errorf("round trip of %s\n got %+v\nwant %+v", data, got, ev)
	}
}

func TestFieldErrorJSON(t *testing.T) {
	got, err := json.Marshal(FieldError{Index: 2, Field: "amount", Reason: "is too large"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"index":2,"field":"amount","reason":"is too large"}`; string(got) != want {
		t.Errorf("json.Marshal(FieldError): got %s, want %s", got, want)
	}
}
