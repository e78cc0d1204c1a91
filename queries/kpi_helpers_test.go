package queries

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
)

// ev builds an event of tenant acme; fill sets the type's fields.
func ev(typ events.Type, when string, fill func(*events.Event)) events.Event {
	e := events.Event{Type: typ, Tenant: "acme", OccurredAt: at(when)}
	if fill != nil {
		fill(&e)
	}
	return e
}

// feb is February 2024 as one window.
func feb(kpi string) Request {
	return Request{KPI: kpi, From: at("2024-02-01T00:00:00Z"), To: at("2024-03-01T00:00:00Z")}
}

// text renders a row's value for comparison with hand-worked figures:
// "null", the exact text when there is one, else the float rounded to 6
// decimals.
func text(v value) string {
	switch {
	case v.Value == nil:
		return "null"
	case v.Exact != "":
		return v.Exact
	}
	return strconv.FormatFloat(math.Round(*v.Value*1e6)/1e6, 'f', -1, 64)
}

// kpiCase is one KPI's expected value for a request built by req.
type kpiCase struct {
	kpi  string
	want string
}

// checkOne runs each case's KPI over req(kpi), expecting a single row.
func checkOne(t *testing.T, e *Engine, req func(string) Request, cases []kpiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.kpi, func(t *testing.T) {
			ans := run(t, e, req(tc.kpi))
			if len(ans.Rows) != 1 {
				t.Fatalf("rows: got %d, want 1: %+v", len(ans.Rows), ans.Rows)
			}
			if got := text(ans.Rows[0].value); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.kpi, got, tc.want)
			}
		})
	}
}

// byGroup runs req and maps each row's value of dimension dim to its text.
func byGroup(t *testing.T, e *Engine, req Request, dim string) map[string]string {
	t.Helper()
	req.GroupBy = []string{dim}
	out := map[string]string{}
	for _, r := range run(t, e, req).Rows {
		out[r.Group[dim]] = text(r.value)
	}
	return out
}

func micros(units float64) events.Micros { return events.Micros(math.Round(units * 1e6)) }

var _ = time.UTC
