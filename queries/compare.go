package queries

import (
	"context"
	"math"
	"math/big"
	"strings"
	"time"
)

// Period is a time range [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Change is a row's KPI over the previous period, and how far it moved:
// Change is the value minus the previous one (ChangeExact the same, exact,
// for counts and money), ChangePercent that difference relative to the
// previous value's size, null when the previous value is zero or null.
type Change struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	value
	Change        *float64 `json:"change"`
	ChangeExact   string   `json:"change_exact,omitempty"`
	ChangePercent *float64 `json:"change_percent"`
}

// Previous returns the request over the period just before it, of the
// same length: as many calendar months when From and To both start a month
// in the request's time zone, else as many calendar days when both are
// midnights there (so a period holding a daylight-saving day compares with
// one of the same days), else the same duration. Row i of the answer is
// compared with row i of the previous period's answer, group by group.
func (r Request) Previous() Request {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	from, to := r.From.In(loc), r.To.In(loc)
	p := r
	p.To = r.From
	switch {
	case monthStart(from) && monthStart(to):
		n := (to.Year()-from.Year())*12 + int(to.Month()-from.Month())
		p.From = time.Date(from.Year(), from.Month()-time.Month(n), 1, 0, 0, 0, 0, loc)
	case midnight(from) && midnight(to):
		p.From = time.Date(from.Year(), from.Month(), from.Day()-calendarDays(from, to), 0, 0, 0,
			0, loc)
	default:
		p.From = r.From.Add(-r.To.Sub(r.From))
	}
	return p
}

func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

func monthStart(t time.Time) bool { return midnight(t) && t.Day() == 1 }

// calendarDays counts the dates from a to b, whatever their lengths.
func calendarDays(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// comparePrevious computes the previous period and attaches it to every
// row of ans: window i of a group against window i of the same group in the
// previous period, whose value is null when the group had no events then.
func (e *Engine) comparePrevious(ctx context.Context, k KPI, req Request, ans *Answer) error {
	prev := req.Previous()
	if prev.From.Before(Earliest) {
		return &RequestError{"compare", "the previous period would start before " +
			Earliest.Format(time.DateOnly)}
	}
	pans, err := e.answer(ctx, k, prev)
	if err != nil {
		return err
	}
	ans.Compare = &Period{From: prev.From, To: prev.To}
	byKey := make(map[rowKey]Row, len(pans.Rows))
	for _, r := range pans.Rows {
		byKey[rowKey{r.window, r.key}] = r
	}
	bounds := prev.Bounds()
	for i := range ans.Rows {
		r := &ans.Rows[i]
		p, ok := byKey[rowKey{r.window, r.key}]
		if !ok {
			// The group had no events in the previous period: no value to
			// compare with, but the period is still named.
			if r.window+1 >= len(bounds) {
				continue
			}
			p = Row{WindowStart: bounds[r.window].In(prev.Location),
				WindowEnd: bounds[r.window+1].In(prev.Location)}
		}
		r.Previous = change(r.value, p)
	}
	return nil
}

type rowKey struct {
	window int
	key    string
}

// change compares value v with the previous row p.
func change(v value, p Row) *Change {
	c := &Change{WindowStart: p.WindowStart, WindowEnd: p.WindowEnd, value: p.value}
	if v.Value == nil || p.Value == nil {
		return c
	}
	d := *v.Value - *p.Value
	c.Change = &d
	if *p.Value != 0 {
		rel := d / math.Abs(*p.Value) * 100
		c.ChangePercent = &rel
	}
	cur, err1 := ParseDecimal(v.Exact)
	was, err2 := ParseDecimal(p.Exact)
	if v.Exact != "" && p.Exact != "" && err1 == nil && err2 == nil {
		decimals := 0
		if strings.Contains(v.Exact, ".") {
			decimals = 2
		}
		c.ChangeExact = Decimal(new(big.Rat).Sub(cur, was), decimals)
	}
	return c
}
