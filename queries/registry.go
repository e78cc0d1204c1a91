// Package queries turns the projected tables into KPIs over tumbling windows.
// Every KPI is declared once in the registry below: the HTTP API, the CLI and
// the reference documentation all read it from there.
package queries

import "slices"

// Unit says how to read a KPI's value.
type Unit string

// Units of KPI values.
const (
	UnitCount   Unit = "count"
	UnitMoney   Unit = "money"
	UnitPercent Unit = "percent"
	UnitRatio   Unit = "ratio"
)

// family says which query computes a KPI.
type family int

const (
	familyAds family = iota
	familyBilling
)

// KPI describes one indicator.
type KPI struct {
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Formula        string   `json:"formula"`
	Unit           Unit     `json:"unit"`
	HigherIsBetter bool     `json:"higher_is_better"`
	EventTypes     []string `json:"event_types"`
	Dimensions     []string `json:"dimensions"`
	family         family
	compute        func(m measures) value
}

// Dimensions a KPI may be grouped or filtered by.
const (
	DimTenant   = "tenant"
	DimCampaign = "campaign"
	DimChannel  = "channel"
	DimAd       = "ad"
	DimCurrency = "currency"
)

var adDims = []string{DimTenant, DimCampaign, DimChannel, DimAd, DimCurrency}
var billingDims = []string{DimTenant}

var billingTypes = []string{"subscription_started", "subscription_changed",
	"subscription_canceled"}

var registry = []KPI{
	{Name: "impressions", Description: "Ad impressions served.", Formula: "sum(count) of impression events",
		Unit: UnitCount, HigherIsBetter: true, EventTypes: []string{"impression"},
		compute: func(m measures) value { return count(m.impressions) }},
	{Name: "clicks", Description: "Clicks on ads.", Formula: "sum(count) of click events",
		Unit: UnitCount, HigherIsBetter: true, EventTypes: []string{"click"},
		compute: func(m measures) value { return count(m.clicks) }},
	{Name: "ctr", Description: "Click-through rate.", Formula: "clicks / impressions × 100",
		Unit: UnitPercent, HigherIsBetter: true, EventTypes: []string{"impression", "click"},
		compute: func(m measures) value { return percent(ratInt(m.clicks), ratInt(m.impressions)) }},
	{Name: "spend", Description: "Ad spend.", Formula: "sum(amount) of cost events",
		Unit: UnitMoney, EventTypes: []string{"cost"},
		compute: func(m measures) value { return money(m.spend) }},
	{Name: "cpc", Description: "Cost per click.", Formula: "spend / clicks",
		Unit: UnitMoney, EventTypes: []string{"cost", "click"},
		compute: func(m measures) value { return moneyRatio(m.spend, ratInt(m.clicks)) }},
	{Name: "cpm", Description: "Cost per thousand impressions.", Formula: "spend / impressions × 1000",
		Unit: UnitMoney, EventTypes: []string{"cost", "impression"},
		compute: func(m measures) value { return moneyRatio(mul(m.spend, 1000), ratInt(m.impressions)) }},
	{Name: "conversions", Description: "Conversions attributed to ads.",
		Formula: "sum(count) of conversion events", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: []string{"conversion"},
		compute:    func(m measures) value { return count(m.conversions) }},
	{Name: "conversion_rate", Description: "Share of clicks that converted.",
		Formula: "conversions / clicks × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: []string{"conversion", "click"},
		compute: func(m measures) value {
			return percent(ratInt(m.conversions), ratInt(m.clicks))
		}},
	{Name: "conversion_value", Description: "Revenue attributed to conversions.",
		Formula: "sum(value) of conversion events", Unit: UnitMoney, HigherIsBetter: true,
		EventTypes: []string{"conversion"},
		compute:    func(m measures) value { return money(m.convValue) }},
	{Name: "roas", Description: "Return on ad spend.", Formula: "conversion_value / spend",
		Unit: UnitRatio, HigherIsBetter: true, EventTypes: []string{"conversion", "cost"},
		compute: func(m measures) value { return ratio(m.convValue, m.spend) }},
	{Name: "mrr", Description: "Monthly recurring revenue at the window's end.",
		Formula: "sum of the monthly amount (yearly / 12) of subscriptions active at window end",
		Unit:    UnitMoney, HigherIsBetter: true, EventTypes: billingTypes, family: familyBilling,
		compute: func(m measures) value { return money(m.mrrEnd) }},
	{Name: "customer_churn_rate",
		Description: "Share of the customers paying at the window's start who pay nothing at its end.",
		Formula:     "churned customers / customers at start × 100", Unit: UnitPercent,
		EventTypes: billingTypes, family: familyBilling,
		compute: func(m measures) value {
			return percent(ratInt(m.churnedCustomers), ratInt(m.customersStart))
		}},
	{Name: "gross_mrr_churn",
		Description: "MRR lost in the window to cancellations and contractions.",
		Formula:     "churned MRR + contraction MRR (rate: ÷ MRR at start × 100)", Unit: UnitMoney,
		EventTypes: billingTypes, family: familyBilling,
		compute: func(m measures) value {
			lost := add(m.churnedMRR, m.contractionMRR)
			v := money(lost)
			v.Rate = percent(lost, m.mrrStart).Value
			return v
		}},
	{Name: "arpu", Description: "Average revenue per paying customer at the window's end.",
		Formula: "MRR at end / customers at end", Unit: UnitMoney, HigherIsBetter: true,
		EventTypes: billingTypes, family: familyBilling,
		compute: func(m measures) value { return moneyRatio(m.mrrEnd, ratInt(m.customersEnd)) }},
}

func init() {
	for i := range registry {
		if registry[i].family == familyBilling {
			registry[i].Dimensions = billingDims
		} else {
			registry[i].Dimensions = adDims
		}
	}
}

// Catalogue returns every KPI, in a stable order.
func Catalogue() []KPI { return slices.Clone(registry) }

// Lookup finds a KPI by name.
func Lookup(name string) (KPI, bool) {
	i := slices.IndexFunc(registry, func(k KPI) bool { return k.Name == name })
	if i < 0 {
		return KPI{}, false
	}
	return registry[i], true
}
