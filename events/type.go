package events

// Type names what happened. It selects which fields an event may and must
// carry.
type Type string

// The event types: ad delivery, then billing, then the types the KPI
// catalogue adds (finance, sales funnel, events, web, social, search,
// projects and people).
const (
	TypeImpression           Type = "impression"
	TypeClick                Type = "click"
	TypeConversion           Type = "conversion"
	TypeSignup               Type = "signup"
	TypeCost                 Type = "cost"
	TypeSubscriptionStarted  Type = "subscription_started"
	TypeSubscriptionChanged  Type = "subscription_changed"
	TypeSubscriptionCanceled Type = "subscription_canceled"
	TypeInvoicePaid          Type = "invoice_paid"
	TypeRefund               Type = "refund"

	TypeExpense            Type = "expense"
	TypeUpsellOffered      Type = "upsell_offered"
	TypeUpsellAccepted     Type = "upsell_accepted"
	TypeEventRegistration  Type = "event_registration"
	TypeEventAttendance    Type = "event_attendance"
	TypeLeadCreated        Type = "lead_created"
	TypeLeadQualified      Type = "lead_qualified"
	TypeOpportunityCreated Type = "opportunity_created"
	TypeDealWon            Type = "deal_won"
	TypeDealLost           Type = "deal_lost"
	TypePageView           Type = "page_view"
	TypeFollowerSnapshot   Type = "follower_snapshot"
	TypeMention            Type = "mention"
	TypeKeywordRank        Type = "keyword_rank"
	TypeTimeLogged         Type = "time_logged"
	TypeProjectEstimate    Type = "project_estimate"
	TypeProjectCompleted   Type = "project_completed"
	TypeSurveyResponse     Type = "survey_response"
)

// allTypes is indexed by the position typeIndex reports.
var allTypes = [...]Type{
	TypeImpression,
	TypeClick,
	TypeConversion,
	TypeSignup,
	TypeCost,
	TypeSubscriptionStarted,
	TypeSubscriptionChanged,
	TypeSubscriptionCanceled,
	TypeInvoicePaid,
	TypeRefund,
	TypeExpense,
	TypeUpsellOffered,
	TypeUpsellAccepted,
	TypeEventRegistration,
	TypeEventAttendance,
	TypeLeadCreated,
	TypeLeadQualified,
	TypeOpportunityCreated,
	TypeDealWon,
	TypeDealLost,
	TypePageView,
	TypeFollowerSnapshot,
	TypeMention,
	TypeKeywordRank,
	TypeTimeLogged,
	TypeProjectEstimate,
	TypeProjectCompleted,
	TypeSurveyResponse,
}

// Types returns every event type in a stable order: ad delivery types,
// billing types, then the catalogue's types. The slice is a fresh copy the caller may modify.
func Types() []Type {
	return append([]Type(nil), allTypes[:]...)
}

// Valid reports whether t is one of the types listed by [Types].
func (t Type) Valid() bool {
	return typeIndex(string(t)) >= 0
}

// typeIndex returns the position of s in allTypes, or -1.
func typeIndex(s string) int {
	for i, t := range allTypes {
		if string(t) == s {
			return i
		}
	}
	return -1
}

// Billing intervals of a subscription.
const (
	IntervalMonth = "month"
	IntervalYear  = "year"
)

// Qualification stages of a lead.
const (
	// StageMQL is a marketing-qualified lead.
	StageMQL = "mql"
	// StageSQL is a sales-qualified lead.
	StageSQL = "sql"
)

// Sentiments of a mention.
const (
	SentimentPositive = "positive"
	SentimentNeutral  = "neutral"
	SentimentNegative = "negative"
)
