package queries

import (
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
)

func view(when, visitor, session string, fill func(*events.Event)) events.Event {
	return ev(events.TypePageView, when, func(e *events.Event) {
		e.Visitor, e.Session, e.URL = visitor, session, "/"
		if fill != nil {
			fill(e)
		}
	})
}

// pageViews on May 1st 2024 (UTC): v1 views at 10:00 and 10:10, then at
// 10:50 after 40 idle minutes (a new session, a bounce); v2 once from the
// newsletter (a bounce); v3's session started before May 1st; v4 twice
// from Google; v5 once in each of two tracker sessions (two bounces).
// Sessions: 6, bounces: 4, page views of those sessions: 8.
func pageViews() []events.Event {
	utm := func(e *events.Event) { e.UTMSource, e.UTMMedium, e.UTMCampaign = "newsletter", "email", "may" }
	google := func(e *events.Event) { e.Referrer = "https://www.google.com/search?q=acme" }
	return []events.Event{
		view("2024-05-01T10:00:00Z", "v1", "", nil),
		view("2024-05-01T10:10:00Z", "v1", "", nil),
		view("2024-05-01T10:50:00Z", "v1", "", nil),
		view("2024-05-01T10:00:00Z", "v2", "", utm),
		view("2024-04-30T23:50:00Z", "v3", "", nil),
		view("2024-05-01T00:05:00Z", "v3", "", nil),
		view("2024-05-01T12:20:00Z", "v4", "", nil),
		view("2024-05-01T12:00:00Z", "v4", "", google),
		view("2024-05-01T13:00:00Z", "v5", "a", nil),
		view("2024-05-01T13:05:00Z", "v5", "b", nil),
	}
}

func may1(kpi string) Request {
	return Request{KPI: kpi, From: at("2024-05-01T00:00:00Z"), To: at("2024-05-02T00:00:00Z")}
}

func TestSessionsWorkedByHand(t *testing.T) {
	e := engineWith(t, pageViews()...)
	checkOne(t, e, may1, []kpiCase{
		{"sessions", "6"},
		{"page_views", "8"},
		{"bounce_rate", "66.666667"},
	})
	src := byGroup(t, e, may1("sessions"), DimUTMSource)
	if src["(direct)"] != "4" || src["newsletter"] != "1" || src["google.com"] != "1" {
		t.Errorf("sessions by source = %v, want (direct) 4, newsletter 1, google.com 1", src)
	}
	med := byGroup(t, e, may1("sessions"), DimUTMMedium)
	if med["(none)"] != "4" || med["email"] != "1" || med["referral"] != "1" {
		t.Errorf("sessions by medium = %v, want (none) 4, email 1, referral 1", med)
	}
	req := may1("bounce_rate")
	req.Filters = map[string]string{DimUTMSource: "google.com"}
	if got := text(run(t, e, req).Rows[0].value); got != "0" {
		t.Errorf("bounce rate of google.com = %s, want 0", got)
	}
}

// TestSessionsOnDaylightSavingDay: March 31st 2024 has 23 hours in Paris;
// views at 00:30 and 23:30 local time both fall on it, the 23:30 one of
// March 30th does not.
func TestSessionsOnDaylightSavingDay(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	e := engineWith(t,
		view("2024-03-30T22:30:00Z", "v1", "", nil), // 23:30 on the 30th (CET)
		view("2024-03-30T23:30:00Z", "v2", "", nil), // 00:30 on the 31st
		view("2024-03-31T21:30:00Z", "v3", "", nil), // 23:30 on the 31st (CEST)
		view("2024-03-31T22:30:00Z", "v4", "", nil)) // 00:30 on April 1st
	ans := run(t, e, Request{KPI: "sessions", Window: WindowDay, Location: paris,
		From: time.Date(2024, 3, 30, 0, 0, 0, 0, paris), To: time.Date(2024, 4, 2, 0, 0, 0, 0, paris)})
	want := []string{"1", "2", "1"}
	for i, r := range ans.Rows {
		if got := text(r.value); got != want[i] {
			t.Errorf("day %s: got %s sessions, want %s", r.WindowStart.Format("01-02"), got, want[i])
		}
	}
	if h := ans.Rows[1].WindowEnd.Sub(ans.Rows[1].WindowStart).Hours(); h != 23 {
		t.Errorf("March 31st lasts %vh, want 23h", h)
	}
}

func snapshot(when, account string, n int64) events.Event {
	return ev(events.TypeFollowerSnapshot, when, func(e *events.Event) {
		e.Account, e.Followers, e.Channel = account, n, "instagram"
	})
}

// TestFollowerGrowth: @a has 1000 followers on February 1st (snapshot of
// January 31st) and 1200 at its end: the snapshot taken at exactly March
// 1st 00:00 belongs to March, as windows are half-open like every other
// window. @b appears with 50 on the 10th.
func TestFollowerGrowth(t *testing.T) {
	e := engineWith(t, snapshot("2024-01-31T23:00:00Z", "@a", 1000),
		snapshot("2024-02-15T00:00:00Z", "@a", 1100), snapshot("2024-02-28T00:00:00Z", "@a", 1200),
		snapshot("2024-03-01T00:00:00Z", "@a", 1300), snapshot("2024-02-10T00:00:00Z", "@b", 50))
	checkOne(t, e, feb, []kpiCase{{"followers", "1250"}, {"follower_growth", "25"}})
	got := byGroup(t, e, feb("follower_growth"), DimAccount)
	if got["@a"] != "20" || got["@b"] != "null" {
		t.Errorf("growth by account = %v, want @a 20, @b null", got)
	}
}

// TestMentions: 2 positive (reach 100), 1 negative (50), 2 neutral (0)
// and 1 without sentiment (10).
func TestMentions(t *testing.T) {
	m := func(sentiment string, n, reach int64) events.Event {
		return ev(events.TypeMention, "2024-02-10T00:00:00Z", func(e *events.Event) {
			e.Sentiment, e.Count, e.Reach, e.Channel = sentiment, n, reach, "twitter"
		})
	}
	e := engineWith(t, m("positive", 2, 100), m("negative", 1, 50), m("neutral", 2, 0), m("", 1, 10))
	checkOne(t, e, feb, []kpiCase{{"mentions", "6"}, {"reach", "160"},
		{"mention_net_sentiment", "20"}}) // (2 − 1) / 5
	if got := byGroup(t, e, feb("mentions"), DimSentiment); got["positive"] != "2" ||
		got[""] != "1" {
		t.Errorf("mentions by sentiment = %v", got)
	}
	e = engineWith(t, m("", 3, 0))
	checkOne(t, e, feb, []kpiCase{{"mention_net_sentiment", "null"}})
}

// TestKeywordRanks: "crm" ranks 8, 3, then 5; "seo" once at 10.
func TestKeywordRanks(t *testing.T) {
	r := func(when, kw string, rank int64) events.Event {
		return ev(events.TypeKeywordRank, when, func(e *events.Event) {
			e.Keyword, e.Engine, e.Rank = kw, "google", rank
		})
	}
	e := engineWith(t, r("2024-02-20T00:00:00Z", "crm", 5), r("2024-02-02T00:00:00Z", "crm", 8),
		r("2024-02-10T00:00:00Z", "crm", 3), r("2024-02-05T00:00:00Z", "seo", 10),
		r("2024-01-05T00:00:00Z", "seo", 1))
	checkOne(t, e, feb, []kpiCase{{"keyword_rank", "7.5"}, {"keyword_best_rank", "6.5"},
		{"keyword_rank_change", "1.5"}})
	req := feb("keyword_rank_change")
	req.GroupBy = []string{DimKeyword, DimEngine}
	for _, row := range run(t, e, req).Rows {
		want := map[string]string{"crm": "3", "seo": "0"}[row.Group[DimKeyword]]
		if got := text(row.value); got != want || row.Group[DimEngine] != "google" {
			t.Errorf("change of %v = %s, want %s", row.Group, got, want)
		}
	}
	e = engineWith(t)
	checkOne(t, e, feb, []kpiCase{{"keyword_rank", "null"}})
}

// TestAdExtrasWorkedByHand: positions 2 on 600 impressions and 1.5 on 400
// average 1.8; 500 impressions without a position do not count. Branded
// search has 300 impressions; on Facebook 2 of 10 clicks converted.
func TestAdExtrasWorkedByHand(t *testing.T) {
	pos := func(n int64, p float64) events.Event {
		e := ad("impression", "2024-02-01T10:00:00Z", "c1", n)
		e.Position = micros(p)
		return e
	}
	branded := ad("impression", "2024-02-01T10:00:00Z", "brand", 300)
	branded.Channel = BrandedSearchChannel
	fb := func(typ string, n int64) events.Event {
		e := ad(typ, "2024-02-02T10:00:00Z", "c2", n)
		e.Channel = "facebook"
		return e
	}
	e := engineWith(t, pos(600, 2), pos(400, 1.5), ad("impression", "2024-02-01T10:00:00Z", "c1", 500),
		branded, fb("click", 10), fb("conversion", 2), ad("click", "2024-02-02T10:00:00Z", "c1", 20),
		ad("conversion", "2024-02-02T10:00:00Z", "c1", 5))
	checkOne(t, e, feb, []kpiCase{
		{"avg_ad_position", "1.8"},
		{"branded_search_impressions", "300"},
		{"social_conversion_rate", "20"},
		{"conversion_rate", "23.333333"}, // 7 / 30
		{"impressions", "1800"},
	})
	e = engineWith(t, ad("click", "2024-02-02T10:00:00Z", "c1", 20))
	checkOne(t, e, feb, []kpiCase{{"avg_ad_position", "null"}, {"social_conversion_rate", "null"}})
}
