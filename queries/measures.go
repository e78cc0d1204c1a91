package queries

import "math/big"

// measure names one base quantity that a source computes for every window
// and group; each KPI is a function of measures. Counts, money and hours
// are all held as exact rationals.
type measure int

// Measures, by the source that fills them.
const (
	// ads: impression, click, conversion, signup and cost events.
	mImpressions measure = iota
	mClicks
	mConversions
	mSignups
	mSpend
	mConvValue
	// ads on social channels, and impressions on branded search.
	mSocialClicks
	mSocialConversions
	mBrandedImpressions
	// ad positions: Σ position × impressions, and those impressions.
	mPositionWeighted
	mPositionImpressions

	// billing: MRR and customers at the window's ends, and movements.
	mMRRStart
	mMRREnd
	mCustomersStart
	mCustomersEnd
	mChurnedCustomers
	mChurnedMRR
	mContractionMRR
	mExpansionMRR
	mNewMRR
	mReactivationMRR
	mNewCustomers
	mReactivatedCustomers

	// revenue in the window, and to date at the window's end.
	mInvoiced
	mRefunded
	mNetRevenueToDate
	mPayersToDate
	// expense events: all, and sales and marketing.
	mExpenses
	mSalesMarketing

	// sales funnel, upsells and event attendance.
	mLeads
	mMQLs
	mSQLs
	mOpportunities
	mDealsWon
	mDealsLost
	mUpsellOffered
	mUpsellAccepted
	mRegistrations
	mAttendees
	mAcquiredAtEvents

	// web, social and search.
	mSessions
	mBounces
	mPageViews
	mFollowersStart
	mFollowersEnd
	mMentions
	mMentionsPositive
	mMentionsNegative
	mMentionsRated
	mReach
	mKeywords
	mRankLastSum
	mRankBestSum
	mRankChangeSum

	// projects and people.
	mHours
	mBillableHours
	mProjects
	mEstimatedHours
	mActualHours
	mEstimatedCost
	mActualCost
	mEstimatedProjectHours // actual hours of the projects with an estimate
	mEstimatedProjectCost  // actual cost of the projects with an estimate
	mResponses
	mPromoters
	mDetractors
	mScoreSum

	numMeasures
)

// measures holds one window and group's measures; unset ones are zero.
type measures [numMeasures]*big.Rat

// add adds v to measure k.
func (m *measures) add(k measure, v *big.Rat) {
	if m[k] == nil {
		m[k] = new(big.Rat)
	}
	m[k].Add(m[k], v)
}

// get returns measure k, zero when unset. Callers must not modify it.
func (m *measures) get(k measure) *big.Rat {
	if m[k] == nil {
		return new(big.Rat)
	}
	return m[k]
}
