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
}

func (f field) String() string { return fieldNames[f] }

// lookupField maps a JSON key to its field.
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
	}
	return 0, false
}

// kind is the JSON shape a field accepts.
type kind uint8

const (
	kindString kind = iota
	kindInteger
	kindMoney // a decimal string or a JSON number
)

// kindOf returns the JSON shape field f accepts.
func kindOf(f field) kind {
	switch f {
	case fCount:
		return kindInteger
	case fValue, fAmount:
		return kindMoney
	}
	return kindString
}

// fieldSet is a set of fields, one bit per field.
type fieldSet uint32

func setOf(fs ...field) fieldSet {
	var s fieldSet
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

func (s fieldSet) has(f field) bool { return s&(1<<f) != 0 }

// first returns the lowest field in a non-empty set.
func (s fieldSet) first() field { return field(bits.TrailingZeros32(uint32(s))) }

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
)

// rules is indexed like allTypes.
var rules = [len(allTypes)]rule{
	newRule(adFields, setOf(fCampaign)),                                   // impression
	newRule(adFields, setOf(fCampaign)),                                   // click
	newRule(adFields|setOf(fValue, fCurrency, fCustomer), 0),              // conversion
	newRule(adFields|setOf(fCustomer), 0),                                 // signup
	newRule(adFields|amountFields, setOf(fCampaign, fAmount, fCurrency)),  // cost
	newRule(billingFields|amountFields|setOf(fInterval), subscribed|paid), // started
	newRule(billingFields|amountFields|setOf(fInterval), subscribed|paid), // changed
	newRule(billingFields, subscribed),                                    // canceled
	newRule(billingFields|amountFields, paid),                             // invoice_paid
	newRule(billingFields|amountFields, paid),                             // refund
}

func newRule(allowed, required fieldSet) rule {
	return rule{
		allowed:  commonAllowed | allowed | required,
		required: commonRequired | required,
	}
}

// ruleFor returns the rule of a valid type.
func ruleFor(t Type) rule { return rules[typeIndex(string(t))] }
