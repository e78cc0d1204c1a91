package convert

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Labels of the events made from the Facebook ads report.
const (
	// FacebookFile is the report's name in the dataset folder.
	FacebookFile    = "facebook_ads_daily.csv"
	FacebookTenant  = "facebook-demo"
	FacebookSource  = "facebook-ads-csv"
	FacebookChannel = "facebook"
	// FacebookCurrency is an assumption: the report says only that Spent
	// is in the ad account's currency, without naming it.
	FacebookCurrency = "USD"
)

// facebookDate is the layout of the Date column: day-month-year.
const facebookDate = "02-01-2006"

// facebookCounts maps the count columns of the report to event types.
var facebookCounts = []struct{ typ, column string }{
	{"impression", "Impressions"},
	{"click", "Clicks"},
	{"conversion", "Total_Conversion"},
}

// Facebook converts facebook_ads_daily.csv, one row per ad and day, and is
// a [Func]. A row becomes up to four events of tenant [FacebookTenant] at
// 00:00 UTC on its Date, with campaign xyz_campaign_id, ad ad_id and channel
// [FacebookChannel]: an impression counting Impressions, a click counting
// Clicks, a conversion counting Total_Conversion, and a cost of Spent in
// [FacebookCurrency]. An event whose count or amount is zero is left out,
// since it would add nothing (and kpi takes no count below 1).
//
// Spent is rounded half up to the cent. The report carries floating point
// noise in up to nine decimals (1.429999948 for 1.43; never off by more
// than 0.00001), while kpi takes at most six and ad accounts bill in cents.
//
// Ids derive from ad_id, Date and type, so a re-export of the report whose
// rows come in another order still imports each event once.
func Facebook(in io.Reader, out io.Writer, onBad func(*RowError)) (Stats, error) {
	return run(in, out, onBad, facebookRow, "Date", "ad_id", "xyz_campaign_id",
		"Impressions", "Clicks", "Spent", "Total_Conversion")
}

func facebookRow(r row) ([]Event, int, error) {
	base, err := facebookBase(r)
	if err != nil {
		return nil, 0, err
	}
	var b rowEvents
	for _, c := range facebookCounts {
		n, err := r.count(c.column)
		if err != nil {
			return nil, 0, err
		}
		e := facebookEvent(base, c.typ)
		e.Count = n
		b.add(n > 0, e)
	}
	spent, err := cents(r.text("Spent"))
	if err != nil {
		return nil, 0, fmt.Errorf("column Spent: %w", err)
	}
	e := facebookEvent(base, "cost")
	e.Amount, e.Currency = spent, FacebookCurrency
	b.add(spent != "0.00", e)
	return b.evs, b.skipped, nil
}

// facebookBase returns the fields shared by the events of row r.
func facebookBase(r row) (Event, error) {
	day, err := time.Parse(facebookDate, r.text("Date"))
	if err != nil {
		return Event{}, fmt.Errorf("column Date: %q is not day-month-year such as 17-08-2023",
			r.text("Date"))
	}
	campaign, err := r.required("xyz_campaign_id")
	if err != nil {
		return Event{}, err
	}
	ad, err := r.required("ad_id")
	if err != nil {
		return Event{}, err
	}
	return Event{Tenant: FacebookTenant, OccurredAt: timestamp(day), Source: FacebookSource,
		Campaign: campaign, Ad: ad, Channel: FacebookChannel}, nil
}

// facebookEvent returns base as an event of type typ with its id.
func facebookEvent(base Event, typ string) Event {
	base.Type = typ
	base.ID = eventID(FacebookSource, base.Ad, base.OccurredAt, typ)
	return base
}

// rowEvents collects the events of one row and counts those left out.
type rowEvents struct {
	evs     []Event
	skipped int
}

func (b *rowEvents) add(keep bool, e Event) {
	if keep {
		b.evs = append(b.evs, e)
	} else {
		b.skipped++
	}
}

// maxCentsDigits bounds the whole part cents accepts, so that the amount in
// cents fits in an int64.
const maxCentsDigits = 15

// cents rounds the plain decimal s, such as "1.429999948", half up to two
// decimals ("1.43") without passing through floating point.
func cents(s string) (string, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if !isDigits(whole) || dot && !isDigits(frac) || len(whole) > maxCentsDigits {
		return "", fmt.Errorf("%q is not a plain decimal >= 0 such as 12.34", s)
	}
	frac += "000"
	n, err := strconv.ParseInt(whole+frac[:2], 10, 64)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	if frac[2] >= '5' {
		n++
	}
	return fmt.Sprintf("%d.%02d", n/100, n%100), nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
