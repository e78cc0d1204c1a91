package queries

import (
	_ "embed"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// RatesSource names the exchange rates convert_to uses: one fixed table,
// so a currency converts at the same rate at every instant of every
// window. Exchange-rate moves therefore never show up as MRR movements or
// as changes between periods; only the business's own amounts move.
const RatesSource = "ECB euro foreign exchange reference rates of 2024-06-28"

//go:embed rates/ecb-2024-06-28.csv
var ratesCSV string

// eurRates holds units of each currency per euro; EUR itself is 1.
var eurRates = parseRates(ratesCSV)

func parseRates(text string) map[string]*big.Rat {
	out := map[string]*big.Rat{"EUR": big.NewRat(1, 1)}
	for _, line := range strings.Split(text, "\n") {
		cur, rate, ok := strings.Cut(strings.TrimSpace(line), ",")
		if !ok || strings.HasPrefix(line, "#") || cur == "currency" {
			continue
		}
		r, err := ParseDecimal(rate)
		if err != nil || r.Sign() <= 0 {
			panic(fmt.Sprintf("queries: bad rate %q for %s", rate, cur))
		}
		out[cur] = r
	}
	return out
}

func hasRate(cur string) bool { _, ok := eurRates[cur]; return ok }

// rateCurrencies lists the currencies with a rate, sorted.
func rateCurrencies() []string {
	out := make([]string, 0, len(eurRates))
	for c := range eurRates {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// converter turns amounts into currency to, crossing through the euro.
type converter struct{ to string }

func newConverter(to string) *converter { return &converter{to: to} }

// factor is what an amount in cur is multiplied by; it wraps [ErrNoRate]
// for a currency the table lacks.
func (c *converter) factor(cur string) (*big.Rat, error) {
	from, ok := eurRates[cur]
	if !ok {
		return nil, fmt.Errorf("%w for %s in the %s", ErrNoRate, cur, RatesSource)
	}
	return new(big.Rat).Quo(eurRates[c.to], from), nil
}

// fxFactor is the SQL of the factor for the currency in expression cur,
// for queries that must convert before they aggregate (MRR per customer).
// Factors are rounded to 12 decimals; a currency without a rate gets 0, and
// the query also returns its currencies so the caller can report ErrNoRate.
func fxFactor(cur string) string {
	return "{fx_rate:Array(Decimal(38, 12))}[indexOf({fx_cur:Array(String)}, " + cur + ")]"
}

// params returns the fx_cur and fx_rate parameters of fxFactor.
func (c *converter) params() (string, string) {
	curs := rateCurrencies()
	rates := make([]string, len(curs))
	for i, cur := range curs {
		f, _ := c.factor(cur)
		rates[i] = f.FloatString(12)
	}
	return stringArray(curs), "[" + strings.Join(rates, ",") + "]"
}
