package queries

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/projections"
)

// SessionTimeout is the session rule: a session is a run of one visitor's
// page views (within one session id, when the tracker sends one) with no
// gap longer than this. A session belongs to the window of its first page
// view, and takes its source, medium and campaign from that view: the
// utm_ parameters, else the referrer's domain with medium "referral", else
// source "(direct)" and medium "(none)"; missing values read "(not set)".
// Page views after the requested range are not read, so a session running
// past its end counts the views within it only.
const SessionTimeout = 30 * time.Minute

// Sessions are rebuilt from half-hourly rows of first and last view: exact
// only while no gap inside one bucket can exceed the timeout. A timeout
// shorter than projections.BucketSize fails to compile here.
const _ = uint64(SessionTimeout - projections.BucketSize)

var webDims = []string{DimTenant, DimUTMSource, DimUTMMedium, DimUTMCampaign}

var (
	srcWeb       = &source{name: "sessions", dims: webDims, run: runSessions}
	srcFollowers = &source{name: "followers", dims: []string{DimTenant, DimAccount, DimChannel},
		run: runFollowers}
	srcMentions = &source{name: "mentions", dims: []string{DimTenant, DimChannel, DimSentiment},
		run: flow{types: []events.Type{events.TypeMention}, keys: []string{"sentiment"},
			aggs: []string{"sum(count)", "sum(reach)"}, cols: []col{
				{sql: "sum(a1)", m: mMentions},
				{sql: "sumIf(a1, sentiment = 'positive')", m: mMentionsPositive},
				{sql: "sumIf(a1, sentiment = 'negative')", m: mMentionsNegative},
				{sql: "sumIf(a1, sentiment != '')", m: mMentionsRated},
				{sql: "sum(a2)", m: mReach}}}.run}
	srcKeywords = &source{name: "keyword ranks", dims: []string{DimTenant, DimKeyword, DimEngine},
		run: runKeywords}
)

func runSessions(ctx context.Context, q *query) error {
	inner := filtersOn(q.req, func(d string) bool { return d == DimTenant })
	outer := filtersOn(q.req, func(d string) bool { return d != DimTenant })
	sql := fmt.Sprintf(sessionsSQL, windowExpr(q.req, "start"), prefixed(q.req.GroupBy),
		q.e.db, inner, outer, latest)
	if q.bucketed() {
		sql = fmt.Sprintf(sessionBucketsSQL, windowExpr(q.req, "start"), prefixed(q.req.GroupBy),
			q.e.db, inner, outer, latest, projections.Bucket, projections.Sessions.Filter)
	}
	p := q.params()
	p["lookback"] = warehouse.FormatTime(q.req.From.Add(-SessionTimeout))
	p["gap_ms"] = fmt.Sprint(SessionTimeout.Milliseconds())
	res, err := q.e.wh.Query(ctx, sql, p)
	if err != nil {
		return err
	}
	return q.collect(res, layout{cols: []col{{m: mSessions}, {m: mBounces}, {m: mPageViews}}})
}

// sessionsSQL cuts page views into sessions and counts them per window of
// their first view. It reads SessionTimeout before the range, so that a
// view continuing an earlier session does not start a new one. Verbs: 1
// window of the start, 2 group-by dimensions, 3 db, 4 tenant filter, 5
// session filters, 6 event order.
const sessionsSQL = `SELECT %[1]s AS ws%[2]s, count(), countIf(views = 1), sum(views)
FROM (
	SELECT tenant, min(occurred_at) AS start, count() AS views,
		argMin(src, %[6]s) AS utm_source, argMin(med, %[6]s) AS utm_medium,
		argMin(camp, %[6]s) AS utm_campaign
	FROM (
		SELECT tenant, visitor, session_id, occurred_at, stream_seq, seq_index, src, med, camp,
			sum(gap) OVER (PARTITION BY tenant, visitor, session_id ORDER BY %[6]s
				ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid
		FROM (
			SELECT tenant, visitor, session_id, occurred_at, stream_seq, seq_index,
				if(utm_source != '', utm_source,
					if(referrer != '', domainWithoutWWW(referrer), '(direct)')) AS src,
				if(utm_medium != '', utm_medium, if(utm_source != '', '(not set)',
					if(referrer != '', 'referral', '(none)'))) AS med,
				if(utm_campaign != '', utm_campaign, '(not set)') AS camp,
				dateDiff('millisecond', lagInFrame(occurred_at, 1, toDateTime64(0, 3, 'UTC'))
					OVER (PARTITION BY tenant, visitor, session_id ORDER BY %[6]s
						ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), occurred_at) > {gap_ms:Int64} AS gap
			FROM %[3]s.events
			WHERE type = 'page_view' AND occurred_at >= {lookback:DateTime64(3, 'UTC')}
				AND occurred_at < {to:DateTime64(3, 'UTC')}%[4]s
		)
	)
	GROUP BY tenant, visitor, session_id, sid
)
WHERE start >= {from:DateTime64(3, 'UTC')}%[5]s
GROUP BY ws%[2]s`

// sessionBucketsSQL is sessionsSQL over the sessions_30m projection's
// half hours: per visitor, session id and bucket, the first and last view,
// the views and the first view's attribution. Views in one bucket are less
// than SessionTimeout apart, so a session break only ever falls between
// buckets, where the gap from one bucket's last view to the next one's
// first decides it. Sessions come out exactly as from the views. Verbs as
// sessionsSQL's, then 7 the bucket, 8 the projection's filter.
const sessionBucketsSQL = `SELECT %[1]s AS ws%[2]s, count(), countIf(views = 1), sum(views)
FROM (
	SELECT tenant, min(first) AS start, sum(n) AS views, argMin(attr, first) AS a,
		if(a.1 != '', a.1, if(a.4 != '', domainWithoutWWW(a.4), '(direct)')) AS utm_source,
		if(a.2 != '', a.2, if(a.1 != '', '(not set)',
			if(a.4 != '', 'referral', '(none)'))) AS utm_medium,
		if(a.3 != '', a.3, '(not set)') AS utm_campaign
	FROM (
		SELECT tenant, visitor, session_id, first, n, attr,
			sum(gap) OVER (PARTITION BY tenant, visitor, session_id ORDER BY bucket
				ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid
		FROM (
			SELECT tenant, visitor, session_id, bucket, first, n, attr,
				dateDiff('millisecond', lagInFrame(last, 1, toDateTime64(0, 3, 'UTC'))
					OVER (PARTITION BY tenant, visitor, session_id ORDER BY bucket
						ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), first) > {gap_ms:Int64} AS gap
			FROM (
				SELECT tenant, visitor, session_id, %[7]s AS bucket, min(occurred_at) AS first,
					max(occurred_at) AS last, count() AS n,
					argMin((utm_source, utm_medium, utm_campaign, referrer), %[6]s) AS attr
				FROM %[3]s.events
				WHERE %[8]s AND %[7]s >= {lookback:DateTime64(3, 'UTC')}
					AND %[7]s < {to:DateTime64(3, 'UTC')}%[4]s
				GROUP BY tenant, visitor, session_id, bucket
			)
		)
	)
	GROUP BY tenant, visitor, session_id, sid
)
WHERE start >= {from:DateTime64(3, 'UTC')}%[5]s
GROUP BY ws%[2]s`

// runFollowers reads each account's followers at every window bound: its
// latest snapshot before the instant (none: 0). It takes the latest
// snapshot per account and point first (point p holds the snapshots
// between bound p and bound p+1), then, per bound, the one of the latest
// point before it.
func runFollowers(ctx context.Context, q *query) error {
	dims := prefixed(groupColumns(q.req.GroupBy))
	sql := fmt.Sprintf(`WITH {bounds:Array(DateTime64(3, 'UTC'))} AS bounds
SELECT toInt64(w) - 1 AS wi%[1]s, sumIf(f, bi = w), sumIf(f, bi = w + 1)
FROM (
	SELECT tenant, account, channel, bi, argMax(pf, p) AS f
	FROM (
		SELECT tenant, account, channel, arrayCount(b -> b <= %[5]s, bounds) AS p,
			argMax(followers, %[4]s) AS pf
		FROM %[2]s.events
		WHERE type = 'follower_snapshot' AND %[6]s AND %[5]s < bounds[-1]%[3]s
		GROUP BY tenant, account, channel, p
	)
	ARRAY JOIN arrayEnumerate(bounds) AS bi
	WHERE p < bi
	GROUP BY tenant, account, channel, bi
)
ARRAY JOIN [bi - 1, bi] AS w
WHERE w >= 1 AND w < length(bounds)
GROUP BY wi%[1]s`, dims, q.e.db, dimFilters(q.req), latest, q.timeKey(),
		projections.Catalogue.Filter)
	res, err := q.e.wh.Query(ctx, sql, q.boundParams())
	if err != nil {
		return err
	}
	return q.collect(res, layout{byIndex: true,
		cols: []col{{m: mFollowersStart}, {m: mFollowersEnd}}})
}

// runKeywords reads, per keyword and engine, the window's first, last and
// best rank, and sums them over the group's keywords.
func runKeywords(ctx context.Context, q *query) error {
	dims := prefixed(groupColumns(q.req.GroupBy))
	sql := fmt.Sprintf(`SELECT ws%[1]s, count(), sum(last), sum(best), sum(first - last)
FROM (
	SELECT %[2]s AS ws, tenant, keyword, search_engine,
		toInt64(argMax(keyword_rank, %[5]s)) AS last, toInt64(min(keyword_rank)) AS best,
		toInt64(argMin(keyword_rank, %[5]s)) AS first
	FROM %[3]s.events
	WHERE type = 'keyword_rank' AND %[7]s AND %[6]s%[4]s
	GROUP BY ws, tenant, keyword, search_engine
)
GROUP BY ws%[1]s`, dims, windowExpr(q.req, q.timeKey()), q.e.db, dimFilters(q.req), latest,
		q.rangeFilter(), projections.Catalogue.Filter)
	res, err := q.e.wh.Query(ctx, sql, q.params())
	if err != nil {
		return err
	}
	return q.collect(res, layout{cols: []col{{m: mKeywords}, {m: mRankLastSum},
		{m: mRankBestSum}, {m: mRankChangeSum}}})
}

// perKeyword averages a rank sum over the group's keywords.
func perKeyword(k measure) func(*measures) value {
	return func(m *measures) value { return ratio(m.get(k), m.get(mKeywords)) }
}

var keywordTypes = types("keyword_rank")

var webKPIs = []KPI{
	{Name: "sessions", Category: CategoryWeb,
		Description: "Web sessions (visits), by traffic source with group_by=utm_source," +
			"utm_medium,utm_campaign; a session ends after 30 minutes without a page view.",
		Formula: "count of sessions starting in the window", Unit: UnitCount,
		HigherIsBetter: true, EventTypes: types("page_view"), sources: []*source{srcWeb},
		compute: countOf(mSessions)},
	{Name: "page_views", Category: CategoryWeb, Description: "Page views of the sessions " +
		"starting in the window.", Formula: "count of page_view in those sessions",
		Unit: UnitCount, HigherIsBetter: true, EventTypes: types("page_view"),
		sources: []*source{srcWeb}, compute: countOf(mPageViews)},
	{Name: "bounce_rate", Category: CategoryWeb,
		Description: "Share of sessions with a single page view.",
		Formula:     "single-page sessions / sessions × 100", Unit: UnitPercent,
		EventTypes: types("page_view"), sources: []*source{srcWeb},
		compute: percentOf(mBounces, mSessions)},
	{Name: "mentions", Category: CategoryWeb, Description: "Brand mentions, a brand-" +
		"awareness indicator; by sentiment with group_by=sentiment.",
		Formula: "sum(count) of mention", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("mention"), sources: []*source{srcMentions}, compute: countOf(mMentions)},
	{Name: "mention_net_sentiment", Category: CategoryWeb,
		Description: "Net sentiment of the mentions that carry one.",
		Formula:     "(positive − negative mentions) / mentions with a sentiment × 100",
		Unit:        UnitPercent, HigherIsBetter: true, EventTypes: types("mention"),
		sources: []*source{srcMentions}, compute: func(m *measures) value {
			return percent(minus(m.get(mMentionsPositive), m.get(mMentionsNegative)),
				m.get(mMentionsRated))
		}},
	{Name: "reach", Category: CategoryWeb, Description: "Potential audience of the mentions.",
		Formula: "sum(reach) of mention", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("mention"), sources: []*source{srcMentions}, compute: countOf(mReach)},
	{Name: "followers", Category: CategoryMarketing, Description: "Followers of the social " +
		"accounts at the window's end: each account's latest snapshot before it. An account is " +
		"its handle on its channel (@acme on x and @acme on instagram are two).",
		Formula: "Σ latest followers per account at window end", Unit: UnitCount,
		HigherIsBetter: true, EventTypes: types("follower_snapshot"),
		sources: []*source{srcFollowers}, compute: countOf(mFollowersEnd)},
	{Name: "follower_growth", Category: CategoryMarketing,
		Description: "Net new followers in the window relative to the followers at its " +
			"start, per account with group_by=account.",
		Formula: "(followers at end − followers at start) / followers at start × 100",
		Unit:    UnitPercent, HigherIsBetter: true, EventTypes: types("follower_snapshot"),
		sources: []*source{srcFollowers}, compute: func(m *measures) value {
			return percent(minus(m.get(mFollowersEnd), m.get(mFollowersStart)),
				m.get(mFollowersStart))
		}},
	{Name: "keyword_rank", Category: CategoryWeb, Description: "Latest rank observed in the " +
		"window, per keyword and engine with group_by=keyword,engine (else the average " +
		"over the keyword and engine pairs in the group).", Formula: "rank of the last observation in the window",
		Unit: UnitRank, EventTypes: keywordTypes, sources: []*source{srcKeywords},
		compute: perKeyword(mRankLastSum)},
	{Name: "keyword_best_rank", Category: CategoryWeb, Description: "Best (lowest) rank " +
		"observed in the window, per keyword and engine with group_by=keyword,engine (else " +
		"the average over the keyword and engine pairs in the group).",
		Formula: "min(rank) in the window", Unit: UnitRank, EventTypes: keywordTypes,
		sources: []*source{srcKeywords}, compute: perKeyword(mRankBestSum)},
	{Name: "keyword_rank_change", Category: CategoryWeb, Description: "Places gained over the " +
		"window: the first observed rank minus the last (positive is an improvement), per " +
		"keyword and engine (else the average over the pairs in the group).",
		Formula: "first rank − last rank in the window", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: keywordTypes, sources: []*source{srcKeywords},
		compute: perKeyword(mRankChangeSum)},
}

// isWebDim reports whether d is one of the session attribution dimensions.
func isWebDim(d string) bool { return slices.Contains(webDims[1:], d) }
