package queries

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// recorder is a warehouse.Conn that notes every query it passes on, so a
// test can ask ClickHouse how it would read each one.
type recorder struct {
	warehouse.Conn
	mu   sync.Mutex
	sqls []recorded
}

type recorded struct {
	sql    string
	params warehouse.Params
}

func (r *recorder) Query(ctx context.Context, q string, p warehouse.Params) (*warehouse.Result,
	error) {
	r.mu.Lock()
	r.sqls = append(r.sqls, recorded{q, p})
	r.mu.Unlock()
	return r.Conn.Query(ctx, q, p)
}

// messyEvents are n events of every type with values from small pools, at
// random instants over five days around the 2024 spring DST change (many
// exactly on an hour or half hour, some sharing an instant), for checking
// that pre-aggregated and raw reads agree.
func messyEvents(n int) []events.Event {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	start := time.Date(2024, 3, 29, 0, 0, 0, 0, time.UTC)
	var instants []time.Time
	out := make([]events.Event, n)
	for i := range out {
		var when time.Time
		switch k := r.IntN(10); {
		case k < 2: // on a half hour
			when = start.Add(time.Duration(r.IntN(5*48)) * 30 * time.Minute)
		case k < 3 && len(instants) > 0: // at an instant an earlier event has
			when = instants[r.IntN(len(instants))]
		default:
			when = start.Add(time.Duration(r.Int64N(int64(5 * 24 * time.Hour))))
			when = when.Truncate(time.Millisecond)
		}
		typ := events.Types()[r.IntN(len(events.Types()))]
		if r.IntN(4) == 0 {
			// Page views come in bursts, mornings from 10:00 to 13:00, so
			// that sessions have several views and breaks.
			typ = events.TypePageView
			when = start.Add(time.Duration(r.IntN(5))*24*time.Hour + 10*time.Hour +
				time.Duration(r.Int64N(int64(3*time.Hour)))).Truncate(time.Millisecond)
		}
		instants = append(instants, when)
		e := events.Event{Type: typ, Tenant: pick("acme", "globex"), OccurredAt: when,
			Campaign: pick("", "spring", "brand"), Channel: pick("search", "social", "instagram"),
			Ad: pick("a1", "a2"), Count: int64(1 + r.IntN(5)), Currency: "USD",
			Customer: pick("c1", "c2", "c3", "c4", "c5", "c6"), Plan: pick("basic", "pro")}
		switch typ {
		case events.TypeConversion:
			e.Value = micros(float64(r.IntN(100)))
		case events.TypeImpression:
			e.Position = micros(float64(r.IntN(4)))
		case events.TypeSubscriptionStarted, events.TypeSubscriptionChanged:
			e.Subscription = pick("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8")
			e.Amount = micros(float64(r.IntN(4) * 30)) // 0 is a trial
			e.Interval = pick("month", "month", "year")
			e.Currency = pick("USD", "USD", "EUR")
		case events.TypeSubscriptionCanceled:
			e.Subscription = pick("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8")
		case events.TypePageView:
			e.Visitor, e.Session = pick("v1", "v2", "v3"), pick("", "", "x")
			e.UTMSource, e.UTMMedium = pick("", "google", "news"), pick("", "cpc")
			e.UTMCampaign, e.Referrer = pick("", "spring"), pick("", "https://www.example.org/a")
		case events.TypeLeadCreated, events.TypeLeadQualified, events.TypeOpportunityCreated,
			events.TypeDealWon, events.TypeDealLost:
			e.Lead, e.Stage = pick("l1", "l2", "l3", "l4"), pick("mql", "sql")
		case events.TypeFollowerSnapshot:
			e.Account, e.Followers = pick("@a", "@b"), int64(100+r.IntN(50))
		case events.TypeMention:
			e.Sentiment, e.Reach = pick("", "positive", "negative", "neutral"), int64(r.IntN(900))
		case events.TypeKeywordRank:
			e.Keyword, e.Engine, e.Rank = pick("k1", "k2"), pick("google", "bing"), int64(1+r.IntN(20))
		case events.TypeTimeLogged:
			e.Person, e.Team, e.Project = pick("p1", "p2"), pick("seo", "media"), pick("x", "y")
			e.Hours, e.Billable = micros(float64(1+r.IntN(8))/2), r.IntN(2) == 0
		case events.TypeSurveyResponse:
			e.Team, e.Score = pick("seo", "media"), int64(r.IntN(11))
		case events.TypeEventRegistration, events.TypeEventAttendance:
			e.EventName = pick("webinar", "meetup")
		case events.TypeProjectEstimate, events.TypeProjectCompleted:
			e.Project, e.Hours = pick("x", "y", "z"), micros(float64(10+r.IntN(30)))
		}
		switch typ {
		case events.TypeCost, events.TypeExpense, events.TypeInvoicePaid, events.TypeRefund,
			events.TypeProjectEstimate, events.TypeProjectCompleted:
			e.Amount = micros(float64(r.IntN(500)))
			e.Category = pick("marketing", "sales", "rent")
		}
		out[i] = e
	}
	return out
}

// messyEngine stores messyEvents in four batches of shuffled order, so
// that stream order is not time order and parts overlap in time.
func messyEngine(t *testing.T) *Engine {
	evs := messyEvents(4000)
	rand.New(rand.NewPCG(3, 5)).Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	e := engineWith(t)
	for b := 0; b < 4; b++ {
		insert(t, e, b*1000, evs[b*1000:(b+1)*1000]...)
	}
	return e
}

// aggregateRequests are the requests the pre-aggregation tests ask of
// every KPI: day windows in UTC, hours in a half-hour zone, a daylight-
// saving week in Paris grouped by the KPI's first dimension, and a range
// off the half hour, which reads raw rows.
func aggregateRequests(k KPI) []Request {
	paris, _ := time.LoadLocation("Europe/Paris")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	from := time.Date(2024, 3, 30, 0, 0, 0, 0, time.UTC)
	reqs := []Request{
		{KPI: k.Name, From: from, To: from.AddDate(0, 0, 3), Window: WindowDay},
		{KPI: k.Name, From: time.Date(2024, 3, 30, 0, 0, 0, 0, kolkata),
			To: time.Date(2024, 3, 31, 12, 0, 0, 0, kolkata), Window: WindowHour,
			Location: kolkata, ConvertTo: "EUR"},
		{KPI: k.Name, From: time.Date(2024, 3, 29, 0, 0, 0, 0, paris),
			To: time.Date(2024, 4, 3, 0, 0, 0, 0, paris), Window: WindowDay, Location: paris,
			GroupBy: k.Dimensions[:1], ConvertTo: "USD"},
		{KPI: k.Name, From: from.Add(15 * time.Minute), To: from.AddDate(0, 0, 2),
			Window: WindowHour, ConvertTo: "USD"},
	}
	if len(k.Dimensions) > 1 {
		reqs[0].GroupBy = k.Dimensions[len(k.Dimensions)-1:]
	}
	return reqs
}

// TestAggregatesMatchRawRows answers every KPI from the projections and
// again from the raw rows (optimize_use_projections = 0) with the SQL over
// occurred_at that requests off the half hour get: the answers must be
// identical, late and tied events included.
func TestAggregatesMatchRawRows(t *testing.T) {
	e := messyEngine(t)
	ctx := context.Background()
	answer := func(req Request) string {
		ans, err := e.Run(ctx, req)
		if err != nil {
			return "error: " + err.Error()
		}
		b, _ := json.Marshal(ans.Rows)
		return string(b)
	}
	var reqs []Request
	for _, k := range Catalogue() {
		reqs = append(reqs, aggregateRequests(k)...)
	}
	fromAggregates := make([]string, len(reqs))
	for i, req := range reqs {
		fromAggregates[i] = answer(req)
	}
	if err := wh.Exec(ctx, "SET optimize_use_projections = 0", nil); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := wh.Exec(ctx, "SET optimize_use_projections = 1", nil); err != nil {
			t.Fatal(err)
		}
	}()
	e.unbucketed = true
	nonEmpty := 0
	for i, req := range reqs {
		raw := answer(req)
		if raw != fromAggregates[i] {
			t.Errorf("%s %s %v..%v by %v:\naggregates %s\nraw rows   %s", req.KPI, req.Window,
				req.From, req.To, req.GroupBy, fromAggregates[i], raw)
		}
		if !strings.HasPrefix(raw, "error") && strings.Contains(raw, `"value":`) &&
			!strings.Contains(raw, `"value":null`) {
			nonEmpty++
		}
	}
	if nonEmpty < len(reqs)/2 {
		t.Errorf("only %d of %d answers have values: the data set misses the KPIs", nonEmpty,
			len(reqs))
	}
}

// TestEveryKPIReadsAggregates asks ClickHouse to plan every query of every
// KPI over windows on whole hours (in UTC and in Paris): none may read the
// raw events rows. (In zones offset by half an hour, the ad KPIs read raw
// rows, as ad_hourly is hourly; the other KPIs still read their half-hourly
// aggregates.)
func TestEveryKPIReadsAggregates(t *testing.T) {
	base := messyEngine(t)
	rec := &recorder{Conn: wh}
	e := &Engine{wh: rec, db: base.db}
	ctx := context.Background()
	for _, k := range Catalogue() {
		reqs := aggregateRequests(k)
		for _, req := range []Request{reqs[0], reqs[2]} {
			req.ConvertTo = "USD"
			rec.sqls = rec.sqls[:0]
			if _, err := e.Run(ctx, req); err != nil {
				t.Fatalf("%s: %v", k.Name, err)
			}
			for _, q := range rec.sqls {
				if !strings.Contains(q.sql, ".events") {
					continue // goals
				}
				res, err := wh.Query(ctx, "EXPLAIN "+q.sql, q.params)
				if err != nil {
					t.Fatalf("%s: explain: %v", k.Name, err)
				}
				var reads []string
				for _, r := range res.Rows {
					line := fmt.Sprint(r[0])
					if strings.Contains(line, "ReadFromMergeTree") {
						reads = append(reads, strings.TrimSpace(strings.Trim(line, "│└─ ")))
					}
				}
				raw := slices.ContainsFunc(reads, func(s string) bool {
					return strings.Contains(s, "("+base.db+".events)")
				})
				if raw || len(reads) == 0 {
					t.Errorf("%s (%s, tz %v) reads %v:\n%s", k.Name, req.Window, req.Location,
						reads, q.sql)
				}
			}
		}
	}
}
