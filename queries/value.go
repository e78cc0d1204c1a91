package queries

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// value is one KPI result. Value is nil where a ratio has a zero
// denominator. Exact holds counts, money and hours as decimal text: at
// least two decimals for money and hours, at most six (the events' own
// precision; big.Rat's FloatString rounds half away from zero beyond).
type value struct {
	Value *float64 `json:"value"`
	Exact string   `json:"exact,omitempty"`
	Rate  *float64 `json:"rate_percent,omitempty"`
}

func ratInt(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

// count is a whole number of events, customers or the like.
func count(r *big.Rat) value {
	f, _ := r.Float64()
	return value{Value: &f, Exact: Decimal(r, 0)}
}

// quantity is a measured amount such as hours, exact to 6 decimals.
func quantity(r *big.Rat) value {
	f, _ := r.Float64()
	return value{Value: &f, Exact: Decimal(r, 2)}
}

// plain is a value without exact text, such as an average rank.
func plain(r *big.Rat) value {
	f, _ := r.Float64()
	return value{Value: &f}
}

// money is an amount; its float is the exact text's, so that value and
// exact agree where conversion factors leave digits beyond the sixth.
func money(r *big.Rat) value {
	if r == nil {
		r = new(big.Rat)
	}
	f, _ := strconv.ParseFloat(r.FloatString(6), 64)
	return value{Value: &f, Exact: Decimal(r, 2)}
}

func moneyRatio(num, den *big.Rat) value {
	if den == nil || den.Sign() == 0 {
		return value{}
	}
	return money(new(big.Rat).Quo(orZero(num), den))
}

func ratio(num, den *big.Rat) value {
	if den == nil || den.Sign() == 0 {
		return value{}
	}
	f, _ := new(big.Rat).Quo(orZero(num), den).Float64()
	return value{Value: &f}
}

func percent(num, den *big.Rat) value {
	v := ratio(num, den)
	if v.Value != nil {
		*v.Value *= 100
	}
	return v
}

// quotient is num / den, or nil when den is zero.
func quotient(num, den *big.Rat) *big.Rat {
	if den == nil || den.Sign() == 0 {
		return nil
	}
	return new(big.Rat).Quo(orZero(num), den)
}

func add(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(orZero(a), orZero(b)) }

func minus(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(orZero(a), orZero(b)) }

func mul(a *big.Rat, n int64) *big.Rat { return new(big.Rat).Mul(orZero(a), ratInt(n)) }

func orZero(r *big.Rat) *big.Rat {
	if r == nil {
		return new(big.Rat)
	}
	return r
}

// ParseDecimal reads exact decimal text such as "-12.5" or "3".
func ParseDecimal(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return nil, fmt.Errorf("not a decimal: %q", s)
	}
	return r, nil
}

// Decimal renders r with at least min fraction digits, exactly when r is a
// finite decimal of up to 6 places, else rounded half away from zero to 6.
func Decimal(r *big.Rat, min int) string {
	s := r.FloatString(6)
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	for len(frac) < min {
		frac += "0"
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}
