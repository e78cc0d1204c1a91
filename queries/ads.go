package queries

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/kpi-analytics/kpi/events"
)

// SocialChannels are the channel values social_conversion_rate counts as
// social networks. Channels are matched exactly, in lower case.
var SocialChannels = []string{"social", "facebook", "instagram", "linkedin", "twitter", "x",
	"tiktok", "pinterest", "youtube", "reddit", "snapchat"}

// BrandedSearchChannel is the channel of impressions on searches for the
// brand's own name, counted by branded_search_impressions.
const BrandedSearchChannel = "branded_search"

var adDims = []string{DimTenant, DimCampaign, DimChannel, DimAd, DimCurrency}

// adScope is one reading of the ad events: the measure each event type
// adds to, restricted by an optional channel condition.
type adScope struct {
	where string
	into  map[events.Type]measure
}

var (
	srcAds = adSource("ads", adScope{into: map[events.Type]measure{
		events.TypeImpression: mImpressions, events.TypeClick: mClicks,
		events.TypeConversion: mConversions, events.TypeSignup: mSignups,
		events.TypeCost: mSpend}})
	srcSocial = adSource("social ads", adScope{where: "channel IN {social:Array(String)}",
		into: map[events.Type]measure{events.TypeClick: mSocialClicks,
			events.TypeConversion: mSocialConversions}})
	srcBranded = adSource("branded search", adScope{
		where: "channel = '" + BrandedSearchChannel + "'",
		into:  map[events.Type]measure{events.TypeImpression: mBrandedImpressions}})
	srcPosition = &source{name: "ad positions", dims: adDims[:4], run: flow{
		types: []events.Type{events.TypeImpression}, hourly: true,
		aggs: []string{"sum(toDecimal128(ad_position, 6) * count)",
			"sumIf(count, ad_position > 0)"},
		cols: []col{{sql: "sum(a1)", m: mPositionWeighted},
			{sql: "sum(a2)", m: mPositionImpressions}}}.run}
)

func adSource(name string, s adScope) *source {
	return &source{name: name, dims: adDims, run: s.run}
}

// adsSQL sums counts and money per window, group, type and currency. Its
// shape (plain sums grouped over toStartOfHour, a filter on channel at
// most) is what lets ClickHouse answer it from the ad_hourly projection
// instead of the raw rows.
func (s adScope) sql(q *query) string {
	dims := strings.Join(append(groupColumns(q.req.GroupBy), "type", "currency"), ", ")
	ts := make([]events.Type, 0, len(s.into))
	for _, t := range events.Types() {
		if _, ok := s.into[t]; ok {
			ts = append(ts, t)
		}
	}
	where := ""
	if s.where != "" {
		where = " AND " + s.where
	}
	// Events without an amount (clicks, impressions) have no currency and
	// pass a currency filter: cpc with currency=EUR is EUR spend per click.
	filters := filtersOn(q.req, func(d string) bool { return d != DimCurrency })
	if _, ok := q.req.Filters[DimCurrency]; ok {
		filters += " AND (currency = {f_currency:String} OR currency = '')"
	}
	return fmt.Sprintf(`SELECT %s AS ws, %s, sum(count) AS n, sum(amount) AS amount, sum(value) AS value
FROM %s.events
WHERE type IN (%s) AND %s%s%s
GROUP BY ws, %s`, windowExpr(q.req, "occurred_at"), dims, q.e.db, typeList(ts),
		timeFilter(q.req), where, filters, dims)
}

func (s adScope) run(ctx context.Context, q *query) error {
	res, err := q.e.wh.Query(ctx, s.sql(q), q.params())
	if err != nil {
		return err
	}
	nd := len(q.req.GroupBy)
	ci := slices.Index(q.req.GroupBy, DimCurrency)
	var unpriced [][]any
	for _, r := range res.Rows {
		g := q.acc.group(windowIndex(q.bounds, r[0].(int64)), r[1:1+nd])
		typ, cur := events.Type(r[1+nd].(string)), r[2+nd].(string)
		if err := s.add(q, g, typ, cur, r[3+nd:]); err != nil {
			return err
		}
		if ci >= 0 && cur == "" && q.inMoney {
			unpriced = append(unpriced, r)
		}
	}
	return s.shareUnpriced(q, ci, unpriced)
}

// shareUnpriced adds, when a money KPI is grouped by currency, the events
// without an amount (clicks, impressions) to every currency's group of the
// same window and other dimensions, so that cpc by currency is each
// currency's spend per click. Their own group, which holds no money, is
// left out of the answer.
func (s adScope) shareUnpriced(q *query, ci int, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	nd := len(q.req.GroupBy)
	rest := func(w int, vals []string) string {
		return fmt.Sprint(w, slices.Delete(slices.Clone(vals), ci, ci+1))
	}
	priced := map[string][]*group{}
	for _, g := range q.acc.byKey {
		vals := make([]string, nd)
		for i, d := range q.req.GroupBy {
			vals[i] = g.dims[d]
		}
		if vals[ci] != "" {
			k := rest(g.window, vals)
			priced[k] = append(priced[k], g)
		}
	}
	for _, r := range rows {
		vals := make([]string, nd)
		for i := range vals {
			vals[i], _ = r[1+i].(string)
		}
		for _, g := range priced[rest(windowIndex(q.bounds, r[0].(int64)), vals)] {
			if err := s.add(q, g, events.Type(r[1+nd].(string)), "", r[3+nd:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// add puts one row's count, amount and value into the group.
func (s adScope) add(q *query, g *group, typ events.Type, cur string, sums []any) error {
	n, amount, val := ratInt(sums[0].(int64)), new(big.Rat), new(big.Rat)
	var err error
	if typ == events.TypeCost {
		amount, err = moneyAt(q, g, cur, sums[1])
	} else if typ == events.TypeConversion {
		val, err = moneyAt(q, g, cur, sums[2])
	} else if cur != "" {
		g.currencies[cur] = true
	}
	if err != nil {
		return err
	}
	m := s.into[typ]
	switch typ {
	case events.TypeCost:
		g.m.add(m, amount)
	case events.TypeConversion:
		g.m.add(m, n)
		if s.where == "" {
			g.m.add(mConvValue, val)
		}
	default:
		g.m.add(m, n)
	}
	return nil
}

// moneyAt parses a decimal column and converts it like query.money.
func moneyAt(q *query, g *group, cur string, v any) (*big.Rat, error) {
	r, err := ratOf(v)
	if err != nil {
		return nil, err
	}
	return q.money(g, cur, r)
}

var adTypes = types("impression", "click", "conversion", "cost")

var adKPIs = []KPI{
	{Name: "impressions", Category: CategoryMarketing, Description: "Ad impressions served.",
		Formula: "sum(count) of impression events", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("impression"), sources: []*source{srcAds},
		compute: countOf(mImpressions)},
	{Name: "clicks", Category: CategoryMarketing, Description: "Clicks on ads.",
		Formula: "sum(count) of click events", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("click"), sources: []*source{srcAds}, compute: countOf(mClicks)},
	{Name: "ctr", Category: CategoryMarketing, Description: "Click-through rate.",
		Formula: "clicks / impressions × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: types("impression", "click"), sources: []*source{srcAds},
		compute: percentOf(mClicks, mImpressions)},
	{Name: "spend", Category: CategoryMarketing, Description: "Ad spend.",
		Formula: "sum(amount) of cost events", Unit: UnitMoney, EventTypes: types("cost"),
		sources: []*source{srcAds}, compute: moneyOf(mSpend)},
	{Name: "cpc", Category: CategoryMarketing, Description: "Cost per click.",
		Formula: "spend / clicks", Unit: UnitMoney, EventTypes: types("cost", "click"),
		sources: []*source{srcAds},
		compute: func(m *measures) value { return moneyRatio(m.get(mSpend), m.get(mClicks)) }},
	{Name: "cpm", Category: CategoryMarketing, Description: "Cost per thousand impressions.",
		Formula: "spend / impressions × 1000", Unit: UnitMoney,
		EventTypes: types("cost", "impression"), sources: []*source{srcAds},
		compute: func(m *measures) value {
			return moneyRatio(mul(m.get(mSpend), 1000), m.get(mImpressions))
		}},
	{Name: "conversions", Category: CategoryMarketing,
		Description: "Conversions attributed to ads.", Formula: "sum(count) of conversion events",
		Unit: UnitCount, HigherIsBetter: true, EventTypes: types("conversion"),
		sources: []*source{srcAds}, compute: countOf(mConversions)},
	{Name: "signups", Category: CategoryMarketing, Description: "Sign-ups.",
		Formula: "sum(count) of signup events", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("signup"), sources: []*source{srcAds}, compute: countOf(mSignups)},
	{Name: "conversion_value", Category: CategoryMarketing,
		Description: "Revenue attributed to conversions.", Formula: "sum(value) of conversion events",
		Unit: UnitMoney, HigherIsBetter: true, EventTypes: types("conversion"),
		sources: []*source{srcAds}, compute: moneyOf(mConvValue)},
	{Name: "roas", Category: CategoryMarketing, Description: "Return on ad spend.",
		Formula: "conversion_value / spend", Unit: UnitRatio, HigherIsBetter: true, money: true,
		EventTypes: types("conversion", "cost"), sources: []*source{srcAds},
		compute: func(m *measures) value { return ratio(m.get(mConvValue), m.get(mSpend)) }},
	{Name: "roi", Category: CategoryFinancial,
		Description: "Return on ad investment, per campaign with group_by=campaign or overall.",
		Formula:     "(conversion_value − spend) / spend × 100", Unit: UnitPercent,
		HigherIsBetter: true, money: true, EventTypes: types("conversion", "cost"),
		sources: []*source{srcAds},
		compute: func(m *measures) value {
			return percent(minus(m.get(mConvValue), m.get(mSpend)), m.get(mSpend))
		}},
	{Name: "social_conversion_rate", Category: CategoryMarketing,
		Description: "Share of clicks on social channels that converted; social channels " +
			"are " + strings.Join(SocialChannels, ", ") + ".",
		Formula: "conversions on social channels / clicks on social channels × 100",
		Unit:    UnitPercent, HigherIsBetter: true, EventTypes: types("conversion", "click"),
		sources: []*source{srcSocial}, compute: percentOf(mSocialConversions, mSocialClicks)},
	{Name: "avg_ad_position", Category: CategoryMarketing,
		Description: "Average ad position weighted by impressions, over impression events " +
			"that report a position.",
		Formula: "Σ(position × count) / Σ count of impression events with a position",
		Unit:    UnitRank, EventTypes: types("impression"), sources: []*source{srcPosition},
		compute: func(m *measures) value {
			return ratio(m.get(mPositionWeighted), m.get(mPositionImpressions))
		}},
	{Name: "branded_search_impressions", Category: CategoryWeb,
		Description: "Impressions on searches for the brand, a brand-awareness indicator: " +
			"impression events on channel " + BrandedSearchChannel + ".",
		Formula: "sum(count) of impression events with channel = " + BrandedSearchChannel,
		Unit:    UnitCount, HigherIsBetter: true, EventTypes: types("impression"),
		sources: []*source{srcBranded}, compute: countOf(mBrandedImpressions)},
}
