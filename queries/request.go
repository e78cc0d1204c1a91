package queries

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is the length of the tumbling windows a range is cut into.
type Window string

// Windows kpi understands. WindowAll makes one window of the whole range.
const (
	WindowMinute Window = "minute"
	WindowHour   Window = "hour"
	WindowDay    Window = "day"
	WindowWeek   Window = "week"
	WindowMonth  Window = "month"
	WindowAll    Window = "all"
)

var windows = []Window{WindowMinute, WindowHour, WindowDay, WindowWeek, WindowMonth, WindowAll}

// MaxWindows bounds how many windows one request may ask for.
const MaxWindows = 10000

// Request asks for one KPI over [From, To).
type Request struct {
	KPI     string
	From    time.Time
	To      time.Time
	Window  Window
	GroupBy []string
	// Filters keep rows whose dimension equals the value.
	Filters map[string]string
	// Location is the time zone window boundaries follow; nil means UTC.
	Location *time.Location
	// ConvertTo, an ISO 4217 code, converts every amount to that currency
	// at the rates of [RatesSource]; empty keeps amounts as they are.
	ConvertTo string
	// Compare asks for a comparison: [ComparePrevious] or empty.
	Compare string
}

// ComparePrevious compares each row with the previous period of the same
// length (see [Request.Previous]).
const ComparePrevious = "previous"

// Requests and their previous periods lie within these instants, which
// ClickHouse's DateTime64 holds and Go's durations can span.
var (
	Earliest = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	Latest   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// RequestError says which parameter of a request is wrong and why.
type RequestError struct {
	Param, Reason string
}

func (e *RequestError) Error() string { return e.Param + ": " + e.Reason }

// Validate checks a request against the KPI's definition and fills in the
// defaults: window all, time zone UTC. It returns the KPI, and a
// *RequestError naming the parameter at fault.
func (r *Request) Validate() (KPI, error) {
	k, ok := Lookup(r.KPI)
	if !ok {
		return KPI{}, &RequestError{"kpi", fmt.Sprintf("unknown KPI %q; GET /v1/kpis lists them", r.KPI)}
	}
	if err := requireRange(r.From, r.To); err != nil {
		return k, err
	}
	if !r.From.Before(r.To) {
		return k, &RequestError{"to", "must be after from"}
	}
	if r.From.Before(Earliest) || r.To.After(Latest) {
		return k, &RequestError{"from", fmt.Sprintf("from and to must lie between %s and %s",
			Earliest.Format(time.DateOnly), Latest.Format(time.DateOnly))}
	}
	if r.Window == "" {
		r.Window = WindowAll
	}
	if !slices.Contains(windows, r.Window) {
		return k, &RequestError{"window", fmt.Sprintf("must be one of %v", windows)}
	}
	if r.Location == nil {
		r.Location = time.UTC
	}
	if n := len(r.Bounds()) - 1; n > MaxWindows {
		return k, &RequestError{"window", fmt.Sprintf("more than %d windows; choose a longer "+
			"window or a shorter range", MaxWindows)}
	}
	if r.Compare != "" && r.Compare != ComparePrevious {
		return k, &RequestError{"compare", `must be "previous"`}
	}
	if r.ConvertTo != "" && !hasRate(r.ConvertTo) {
		return k, &RequestError{"convert_to", fmt.Sprintf("no rate for %q; rates exist for %s",
			r.ConvertTo, strings.Join(rateCurrencies(), " "))}
	}
	for i, d := range r.GroupBy {
		if slices.Contains(r.GroupBy[:i], d) {
			return k, &RequestError{"group_by", fmt.Sprintf("%q is given twice", d)}
		}
		if !slices.Contains(k.Dimensions, d) {
			return k, &RequestError{"group_by", fmt.Sprintf("%q is not a dimension of %s (%s)",
				d, k.Name, strings.Join(k.Dimensions, ", "))}
		}
	}
	for d := range r.Filters {
		if !slices.Contains(k.Dimensions, d) {
			return k, &RequestError{d, fmt.Sprintf("not a filter of %s (%s)", k.Name,
				strings.Join(k.Dimensions, ", "))}
		}
	}
	return k, nil
}

// Bounds returns the window boundaries from From to To: each window is
// [b[i], b[i+1]). The first and last windows are clipped to the range.
func (r *Request) Bounds() []time.Time {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	out := []time.Time{r.From}
	if r.Window == WindowAll {
		return append(out, r.To)
	}
	for t := next(floor(r.From.In(loc), r.Window), r.Window); t.Before(r.To); t = next(t, r.Window) {
		out = append(out, t)
		if len(out) > MaxWindows+1 {
			break
		}
	}
	return append(out, r.To)
}

// floor is the start of the window holding t, in t's location.
func floor(t time.Time, w Window) time.Time {
	y, m, d := t.Date()
	switch w {
	case WindowMinute:
		return t.Truncate(time.Minute)
	case WindowHour:
		// Hours are counted in elapsed time from local midnight, as
		// ClickHouse's toStartOfHour(t, tz) counts them: local hours in
		// zones half an hour off UTC (Asia/Kolkata) and on daylight-saving
		// days; where the clock moves by half an hour (Australia/Lord_Howe)
		// the hours after the change start at half past.
		day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
		return day.Add(t.Sub(day).Truncate(time.Hour))
	case WindowDay:
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	case WindowWeek:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, t.Location())
	case WindowMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	}
	return t
}

// next is the start of the window after the one starting at t. Calendar
// arithmetic in the location keeps days 23 or 25 hours long across
// daylight-saving changes.
func next(t time.Time, w Window) time.Time {
	y, m, d := t.Date()
	switch w {
	case WindowMinute:
		return t.Add(time.Minute)
	case WindowHour:
		// The last hour of a day 23.5 or 24.5 hours long ends at midnight.
		if end := time.Date(y, m, d+1, 0, 0, 0, 0, t.Location()); end.Before(t.Add(time.Hour)) {
			return end
		}
		return t.Add(time.Hour)
	case WindowDay:
		return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
	case WindowWeek:
		return time.Date(y, m, d+7, 0, 0, 0, 0, t.Location())
	case WindowMonth:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, t.Location())
	}
	return t
}

// ParseTime accepts RFC 3339 or a bare date (midnight in loc).
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 or YYYY-MM-DD, got %q", s)
	}
	return t, nil
}

// requireRange names the missing end of a period, if any.
func requireRange(from, to time.Time) error {
	for _, p := range []struct {
		name string
		t    time.Time
	}{{"from", from}, {"to", to}} {
		if p.t.IsZero() {
			return &RequestError{p.name, "required (RFC 3339 or YYYY-MM-DD)"}
		}
	}
	return nil
}
