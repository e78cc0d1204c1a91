package events

// Type names what happened. It selects which fields an event may and must
// carry.
type Type string

// The event types. Ad delivery types come first, billing types after.
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
}

// Types returns every event type in a stable order: ad delivery types, then
// billing types. The slice is a fresh copy the caller may modify.
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
