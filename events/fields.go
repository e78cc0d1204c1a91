package events

import "math/bits"

// field identifies one key of the envelope.
type field uint8

// The envelope keys, in the order their values are validated and marshaled.
const (
	fID field = iota
	fType
	fTenant
	fOccurredAt
	fReceivedAt
	fSource
	fCampaign
	fAd
	fChannel
	fCount
	fValue
	fAmount
	fCurrency
	fCustomer
	fSubscription
	fPlan
	fInterval
	fInvoice
	fPosition
	fCategory
	fEventName
	fLead
	fStage
	fSession
	fVisitor
	fURL
	fReferrer
	fUTMSource
	fUTMMedium
	fUTMCampaign
	fAccount
	fFollowers
	fSentiment
	fReach
	fKeyword
	fEngine
	fRank
	fPerson
	fTeam
	fProject
	fHours
	fBillable
	fScore
	numFields
)

// fieldNames holds the JSON key of each field.
var fieldNames = [numFields]string{
	fID:           "id",
	fType:         "type",
	fTenant:       "tenant",
	fOccurredAt:   "occurred_at",
	fReceivedAt:   "received_at",
	fSource:       "source",
	fCampaign:     "campaign",
	fAd:           "ad",
	fChannel:      "channel",
	fCount:        "count",
	fValue:        "value",
	fAmount:       "amount",
	fCurrency:     "currency",
	fCustomer:     "customer",
	fSubscription: "subscription",
	fPlan:         "plan",
	fInterval:     "interval",
	fInvoice:      "invoice",
	fPosition:     "position",
	fCategory:     "category",
	fEventName:    "event_name",
	fLead:         "lead",
	fStage:        "stage",
	fSession:      "session",
	fVisitor:      "visitor",
	fURL:          "url",
	fReferrer:     "referrer",
	fUTMSource:    "utm_source",
	fUTMMedium:    "utm_medium",
	fUTMCampaign:  "utm_campaign",
	fAccount:      "account",
	fFollowers:    "followers",
	fSentiment:    "sentiment",
	fReach:        "reach",
	fKeyword:      "keyword",
	fEngine:       "engine",
	fRank:         "rank",
	fPerson:       "person",
	fTeam:         "team",
	fProject:      "project",
	fHours:        "hours",
	fBillable:     "billable",
	fScore:        "score",
}

func (f field) String() string { return fieldNames[f] }

// lookupField maps a JSON key to its field. A switch, which the compiler
// turns into a binary search on length and content, beats a map here.
func lookupField(key string) (field, bool) {
	switch key {
	case "id":
		return fID, true
	case "type":
		return fType, true
	case "tenant":
		return fTenant, true
	case "occurred_at":
		return fOccurredAt, true
	case "received_at":
		return fReceivedAt, true
	case "source":
		return fSource, true
	case "campaign":
		return fCampaign, true
	case "ad":
		return fAd, true
	case "channel":
		return fChannel, true
	case "count":
		return fCount, true
	case "value":
		return fValue, true
	case "amount":
		return fAmount, true
	case "currency":
		return fCurrency, true
	case "customer":
		return fCustomer, true
	case "subscription":
		return fSubscription, true
	case "plan":
		return fPlan, true
	case "interval":
		return fInterval, true
	case "invoice":
		return fInvoice, true
	case "position":
		return fPosition, true
	case "category":
		return fCategory, true
	case "event_name":
		return fEventName, true
	case "lead":
		return fLead, true
	case "stage":
		return fStage, true
	case "session":
		return fSession, true
	case "visitor":
		return fVisitor, true
	case "url":
		return fURL, true
	case "referrer":
		return fReferrer, true
	case "utm_source":
		return fUTMSource, true
	case "utm_medium":
		return fUTMMedium, true
	case "utm_campaign":
		return fUTMCampaign, true
	case "account":
		return fAccount, true
	case "followers":
		return fFollowers, true
	case "sentiment":
		return fSentiment, true
	case "reach":
		return fReach, true
	case "keyword":
		return fKeyword, true
	case "engine":
		return fEngine, true
	case "rank":
		return fRank, true
	case "person":
		return fPerson, true
	case "team":
		return fTeam, true
	case "project":
		return fProject, true
	case "hours":
		return fHours, true
	case "billable":
		return fBillable, true
	case "score":
		return fScore, true
	}
	return 0, false
}

// kind is the JSON shape a field accepts.
type kind uint8

const (
	kindString  kind = iota
	kindInteger      // a JSON integer
	kindDecimal      // a decimal string or a JSON number, read exactly
	kindBool         // true or false
)

// kindOf returns the JSON shape field f accepts.
func kindOf(f field) kind {
	switch f {
	case fCount, fFollowers, fReach, fRank, fScore:
		return kindInteger
	case fValue, fAmount, fPosition, fHours:
		return kindDecimal
	case fBillable:
		return kindBool
	}
	return kindString
}

// fieldSet is a set of fields, one bit per field.
type fieldSet uint64

func setOf(fs ...field) fieldSet {
	var s fieldSet
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

func (s fieldSet) has(f field) bool { return s&(1<<f) != 0 }

// first returns the lowest field in a non-empty set.
func (s fieldSet) first() field { return field(bits.TrailingZeros64(uint64(s))) }

// rule says which fields a type allows and which it requires.
type rule struct {
	allowed  fieldSet
	required fieldSet
}

var (
	commonAllowed  = setOf(fID, fType, fTenant, fOccurredAt, fReceivedAt, fSource)
	commonRequired = setOf(fType, fTenant, fOccurredAt)
	adFields       = setOf(fCampaign, fAd, fChannel, fCount)
	billingFields  = setOf(fCustomer, fSubscription, fPlan, fInvoice)
	amountFields   = setOf(fAmount, fCurrency)
	subscribed     = setOf(fCustomer, fSubscription)
	paid           = setOf(fCustomer, fAmount, fCurrency)
	upsellFields   = setOf(fCustomer, fPlan, fCampaign) | amountFields
	eventFields    = setOf(fEventName, fCustomer, fCampaign, fChannel, fCount)
	dealFields     = setOf(fLead, fCustomer) | amountFields
	pageFields     = setOf(fVisitor, fSession, fURL, fReferrer, fUTMSource, fUTMMedium,
		fUTMCampaign)
	projectFields = setOf(fProject, fTeam, fHours) | amountFields
)

// rules is indexed like allTypes.
var rules = [len(allTypes)]rule{
	newRule(adFields|setOf(fPosition), setOf(fCampaign)),                  // impression
	newRule(adFields, setOf(fCampaign)),                                   // click
	newRule(adFields|setOf(fValue, fCurrency, fCustomer), 0),              // conversion
	newRule(adFields|setOf(fCustomer), 0),                                 // signup
	newRule(adFields|amountFields, setOf(fCampaign, fAmount, fCurrency)),  // cost
	newRule(billingFields|amountFields|setOf(fInterval), subscribed|paid), // started
	newRule(billingFields|amountFields|setOf(fInterval), subscribed|paid), // changed
	newRule(billingFields, subscribed),                                    // canceled
	newRule(billingFields|amountFields, paid),                             // invoice_paid
	newRule(billingFields|amountFields, paid),                             // refund
	newRule(setOf(fProject, fTeam), amountFields|setOf(fCategory)),        // expense
	newRule(upsellFields, setOf(fCustomer)),                               // upsell_offered
	newRule(upsellFields, setOf(fCustomer)),                               // upsell_accepted
	newRule(eventFields, setOf(fEventName)),                               // event_registration
	newRule(eventFields, setOf(fEventName)),                               // event_attendance
	newRule(setOf(fCustomer, fCampaign, fChannel), setOf(fLead)),          // lead_created
	newRule(setOf(fCustomer), setOf(fLead, fStage)),                       // lead_qualified
	newRule(dealFields, setOf(fLead)),                                     // opportunity_created
	newRule(dealFields, setOf(fLead)),                                     // deal_won
	newRule(setOf(fCustomer), setOf(fLead)),                               // deal_lost
	newRule(pageFields, setOf(fVisitor, fURL)),                            // page_view
	newRule(setOf(fChannel), setOf(fAccount, fFollowers)),                 // follower_snapshot
	newRule(setOf(fChannel, fSentiment, fReach, fURL, fCount), 0),         // mention
	newRule(setOf(fURL), setOf(fKeyword, fEngine, fRank)),                 // keyword_rank
	newRule(setOf(fTeam, fProject, fBillable), setOf(fPerson, fHours)),    // time_logged
	newRule(projectFields, setOf(fProject, fHours)),                       // project_estimate
	newRule(projectFields, setOf(fProject, fHours)),                       // project_completed
	newRule(setOf(fPerson, fTeam), setOf(fScore)),                         // survey_response
}

func newRule(allowed, required fieldSet) rule {
	return rule{
		allowed:  commonAllowed | allowed | required,
		required: commonRequired | required,
	}
}

// ruleFor returns the rule of a valid type.
func ruleFor(t Type) rule { return rules[typeIndex(string(t))] }
