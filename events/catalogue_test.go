package events

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParseRejectsCatalogue covers the value rules of the catalogue's
// fields: enums, integer ranges, positions, booleans and lengths.
func TestParseRejectsCatalogue(t *testing.T) {
	base := object{{"tenant", q("acme")}, {"occurred_at", q("2024-03-31T00:00:00Z")}}
	lead := base.with("type", q("lead_qualified")).with("lead", q("l1")).with("stage", q("mql"))
	rank := base.with("type", q("keyword_rank")).with("keyword", q("k")).
		with("engine", q("google")).with("rank", "1")
	survey := base.with("type", q("survey_response")).with("score", "7")
	logged := base.with("type", q("time_logged")).with("person", q("p")).with("hours", "1")
	mention := base.with("type", q("mention"))
	imp := base.with("type", q("impression")).with("campaign", q("c"))
	page := base.with("type", q("page_view")).with("visitor", q("v")).with("url", q("/"))
	checkRejects(t, []rejectCase{
		{"stage upper case", lead.with("stage", q("MQL")).json(), "stage"},
		{"stage unknown", lead.with("stage", q("opportunity")).json(), "stage"},
		{"sentiment unknown", mention.with("sentiment", q("angry")).json(), "sentiment"},
		{"rank zero", rank.with("rank", "0").json(), "rank"},
		{"rank too deep", rank.with("rank", "1001").json(), "rank"},
		{"score negative", survey.with("score", "-1").json(), "score"},
		{"score eleven", survey.with("score", "11").json(), "score"},
		{"followers negative", base.with("type", q("follower_snapshot")).
			with("account", q("a")).with("followers", "-3").json(), "followers"},
		{"hours negative", logged.with("hours", q("-1")).json(), "hours"},
		{"hours seven decimals", logged.with("hours", "0.1234567").json(), "hours"},
		{"billable string", logged.with("billable", q("yes")).json(), "billable"},
		{"billable null literal typo", logged.with("billable", "nul").json(), "billable"},
		{"position zero", imp.with("position", "0").json(), "position"},
		{"position on click", imp.with("type", q("click")).with("position", "2").json(),
			"position"},
		{"url too long", page.with("url", q(strings.Repeat("u", MaxURLLen+1))).json(), "url"},
		{"lead too long", lead.with("lead", q(strings.Repeat("l", MaxIDLen+1))).json(), "lead"},
		{"expense without category", base.with("type", q("expense")).
			with("amount", "1").with("currency", q("EUR")).json(), "category"},
		{"deal amount without currency", base.with("type", q("deal_won")).
			with("lead", q("l")).with("amount", "5").json(), "currency"},
		{"rank on page view", page.with("rank", "3").json(), "rank"},
	})
}

func TestParseAcceptsCatalogue(t *testing.T) {
	base := object{{"tenant", q("acme")}, {"occurred_at", q("2024-03-31T00:00:00Z")}}
	logged := base.with("type", q("time_logged")).with("person", q("p")).with("hours", "1")
	tests := []struct {
		name  string
		data  []byte
		check func(Event) bool
	}{
		{"billable false", logged.with("billable", "false").json(),
			func(e Event) bool { return !e.Billable }},
		{"billable null", logged.with("billable", "null").json(),
			func(e Event) bool { return !e.Billable }},
		{"score ten", base.with("type", q("survey_response")).with("score", "10").json(),
			func(e Event) bool { return e.Score == MaxScore }},
		{"rank limit", base.with("type", q("keyword_rank")).with("keyword", q("k")).
			with("engine", q("bing")).with("rank", "1000").json(),
			func(e Event) bool { return e.Rank == MaxRank }},
		{"mention defaults count", base.with("type", q("mention")).json(),
			func(e Event) bool { return e.Count == 1 && e.Sentiment == "" }},
		{"url at limit", base.with("type", q("page_view")).with("visitor", q("v")).
			with("url", q(strings.Repeat("u", MaxURLLen))).json(),
			func(e Event) bool { return len(e.URL) == MaxURLLen }},
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
			checkRoundTrip(t, ev)
		})
	}
}

// TestZeroRequiredNumbersRoundTrip guards the canonical writer: a required
// number that is zero must still be written, or the broker copy is invalid.
func TestZeroRequiredNumbersRoundTrip(t *testing.T) {
	for _, typ := range []Type{TypeFollowerSnapshot, TypeSurveyResponse, TypeProjectCompleted,
		TypeTimeLogged} {
		for _, tc := range typeCases(t) {
			if tc.typ == typ {
				ev := tc.want
				ev.Followers, ev.Score, ev.Hours = 0, 0, 0
				checkRoundTrip(t, ev)
			}
		}
	}
}

// TestSchemaFieldKinds checks that each field's JSON Schema shape matches
// the kind Parse reads.
func TestSchemaFieldKinds(t *testing.T) {
	var s struct {
		Properties map[string]struct {
			Type string `json:"type"`
			Ref  string `json:"$ref"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	want := map[kind]string{kindString: "string", kindInteger: "integer", kindBool: "boolean",
		kindDecimal: "#/$defs/money"}
	for f := fID; f < numFields; f++ {
		p, ok := s.Properties[f.String()]
		if !ok {
			t.Errorf("schema lacks property %s", f)
			continue
		}
		got := p.Type
		if p.Ref != "" {
			got = p.Ref
		}
		if got != want[kindOf(f)] {
			t.Errorf("property %s: got %q, want %q", f, got, want[kindOf(f)])
		}
	}
	if got, want := len(s.Properties), int(numFields); got != want {
		t.Errorf("schema properties: got %d, want %d", got, want)
	}
}
