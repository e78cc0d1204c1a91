// Package queries turns the projected tables into KPIs over tumbling windows.
// Every KPI is declared once in the registry: the HTTP API, the CLI and the
// reference page docs/kpis.md (written by `go generate ./queries/`) all read
// it from there. Each KPI is a function of measures that one or more sources
// (one SQL query each, see source.go) compute per window and group; goals
// and comparison with the previous period apply to every KPI alike.
//
// Sources are written so that ClickHouse answers them from the aggregate
// projections of package projections (ad_hourly, ad_position_hourly and
// the half-hourly sessions, subscriptions and catalogue ones): they group
// by the projections' time keys when the request's bounds allow and use
// the projections' aggregates verbatim.
// aggregate_test.go checks both that every KPI's plan reads no raw rows
// and that its answers equal those from the raw rows.
package queries

//go:generate go run ./cmd/kpidoc -o ../docs/kpis.md

import "slices"

// Unit says how to read a KPI's value.
type Unit string

// Units of KPI values.
const (
	UnitCount   Unit = "count"
	UnitMoney   Unit = "money"
	UnitPercent Unit = "percent"
	UnitRatio   Unit = "ratio"
	UnitHours   Unit = "hours"
	UnitRank    Unit = "rank"
	UnitScore   Unit = "score"
)

// unitMeanings explains each unit, for the catalogue and its reference page.
var unitMeanings = map[Unit]string{
	UnitCount: "a whole number of events, customers, sessions or the like",
	UnitMoney: "an amount in the events' currency (or in convert_to), exact decimal text " +
		"in `exact`",
	UnitPercent: "0 to 100 for shares; changes and variances may be negative or above 100",
	UnitRatio:   "a plain ratio (2.5 means 2.5×)",
	UnitHours:   "hours, exact decimal text in `exact`",
	UnitRank:    "a position in a list, 1 being the top: lower is better",
	UnitScore:   "a survey score: eNPS from -100 to 100, averages from 0 to 10",
}

// Categories group the catalogue as the issue that defined it does.
const (
	CategoryClient    = "Client performance"
	CategoryFinancial = "Financial"
	CategoryMarketing = "Digital marketing"
	CategoryWeb       = "Web and traffic"
	CategoryPeople    = "Projects and people"
)

// KPI describes one indicator.
type KPI struct {
	Name           string   `json:"name"`
	Category       string   `json:"category"`
	Description    string   `json:"description"`
	Formula        string   `json:"formula"`
	Unit           Unit     `json:"unit"`
	HigherIsBetter bool     `json:"higher_is_better"`
	EventTypes     []string `json:"event_types"`
	// Dimensions are what the KPI may be grouped and filtered by: those
	// every one of its sources supports.
	Dimensions []string `json:"dimensions"`
	// money marks a KPI computed from amounts even when its unit is not
	// money (roas, margins): it refuses mixed currencies like money does.
	money   bool
	sources []*source
	compute func(m *measures) value
}

// usesMoney reports whether the KPI's inputs include amounts.
func (k KPI) usesMoney() bool { return k.money || k.Unit == UnitMoney }

// Dimensions a KPI may be grouped or filtered by. Each is a column of the
// events table (engine is stored as search_engine) except the utm_ ones of
// traffic KPIs, which are the session's attribution (see web.go).
const (
	DimTenant      = "tenant"
	DimCampaign    = "campaign"
	DimChannel     = "channel"
	DimAd          = "ad"
	DimCurrency    = "currency"
	DimCategory    = "category"
	DimProject     = "project"
	DimTeam        = "team"
	DimPerson      = "person"
	DimPlan        = "plan"
	DimEventName   = "event_name"
	DimAccount     = "account"
	DimSentiment   = "sentiment"
	DimKeyword     = "keyword"
	DimEngine      = "engine"
	DimUTMSource   = "utm_source"
	DimUTMMedium   = "utm_medium"
	DimUTMCampaign = "utm_campaign"
)

// dimColumns maps dimensions to columns where the names differ.
var dimColumns = map[string]string{DimEngine: "search_engine"}

// dimColumn is the SQL column of a validated dimension.
func dimColumn(d string) string {
	if c, ok := dimColumns[d]; ok {
		return c
	}
	return d
}

// categories orders the catalogue.
var categories = []string{CategoryClient, CategoryFinancial, CategoryMarketing, CategoryWeb,
	CategoryPeople}

// registry is the catalogue, by category, in the order of the reference page.
var registry = byCategory(slices.Concat(funnelKPIs, financeKPIs, billingKPIs, adKPIs,
	webKPIs, peopleKPIs))

func byCategory(ks []KPI) []KPI {
	slices.SortStableFunc(ks, func(a, b KPI) int {
		return slices.Index(categories, a.Category) - slices.Index(categories, b.Category)
	})
	return ks
}

func init() {
	seen := map[string]bool{}
	for i := range registry {
		k := &registry[i]
		if seen[k.Name] {
			panic("queries: KPI registered twice: " + k.Name)
		}
		seen[k.Name] = true
		if k.compute == nil || !slices.Contains(categories, k.Category) {
			panic("queries: KPI without compute function or category: " + k.Name)
		}
		k.Dimensions = commonDims(k.sources)
	}
}

// commonDims returns the dimensions every source supports, in the order of
// the first.
func commonDims(srcs []*source) []string {
	if len(srcs) == 0 {
		panic("queries: KPI without sources")
	}
	var out []string
	for _, d := range srcs[0].dims {
		if !slices.ContainsFunc(srcs[1:], func(s *source) bool {
			return !slices.Contains(s.dims, d)
		}) {
			out = append(out, d)
		}
	}
	return out
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

// Shapes of compute functions shared by many KPIs.

func countOf(k measure) func(*measures) value {
	return func(m *measures) value { return count(m.get(k)) }
}

func moneyOf(k measure) func(*measures) value {
	return func(m *measures) value { return money(m.get(k)) }
}

func hoursOf(k measure) func(*measures) value {
	return func(m *measures) value { return quantity(m.get(k)) }
}

func percentOf(num, den measure) func(*measures) value {
	return func(m *measures) value { return percent(m.get(num), m.get(den)) }
}

// types lists event type names for a KPI's EventTypes.
func types(ts ...string) []string { return ts }
