package events

import (
	"errors"
	"math"
	"strconv"
)

// Micros is an exact amount of money in millionths of the currency unit:
// 12.34 USD is Micros(12_340_000).
type Micros int64

// microsPerUnit is 10^MaxMoneyDecimals.
const microsPerUnit = 1_000_000

// Errors returned by [ParseMicros]. [Parse] uses their text as the reason
// of a [FieldError], so it reads on from the field's name.
var (
	// ErrMoneySyntax means the text is not a plain decimal.
	ErrMoneySyntax = errors.New(
		"must be a plain decimal such as 12.34 (no sign, exponent, NaN or Infinity)")
	// ErrMoneyNegative means the text has a minus sign.
	ErrMoneyNegative = errors.New("must not be negative")
	// ErrMoneyPrecision means the text has more than 6 fractional digits.
	ErrMoneyPrecision = errors.New("must have at most 6 decimal places")
	// ErrMoneyRange means the amount does not fit in [Micros].
	ErrMoneyRange = errors.New("is too large")
)

// ParseMicros parses a non-negative plain decimal such as "12", "0.5" or
// "12.340000" exactly, without passing through floating point. It accepts
// the JSON number grammar without sign or exponent: no leading zeros, at
// least one digit on each side of a decimal point. It returns
// [ErrMoneyNegative] for a leading minus, [ErrMoneyPrecision] for more than
// [MaxMoneyDecimals] fractional digits, [ErrMoneyRange] when the value
// overflows Micros, and [ErrMoneySyntax] for anything else.
func ParseMicros(s string) (Micros, error) {
	if len(s) > 0 && s[0] == '-' {
		return 0, ErrMoneyNegative
	}
	intText, fracText := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intText, fracText = s[:i], s[i+1:]
			if fracText == "" {
				return 0, ErrMoneySyntax
			}
			break
		}
	}
	if !isDigits(intText) || fracText != "" && !isDigits(fracText) ||
		len(intText) > 1 && intText[0] == '0' {
		return 0, ErrMoneySyntax
	}
	if len(fracText) > MaxMoneyDecimals {
		return 0, ErrMoneyPrecision
	}
	return microsOf(intText, fracText)
}

// microsOf combines validated digit strings into Micros.
func microsOf(intText, fracText string) (Micros, error) {
	const maxUnits = math.MaxInt64 / microsPerUnit
	var units int64
	for i := 0; i < len(intText); i++ {
		if units > maxUnits/10 {
			return 0, ErrMoneyRange
		}
		units = units*10 + int64(intText[i]-'0')
	}
	var frac int64
	for i := 0; i < MaxMoneyDecimals; i++ {
		frac *= 10
		if i < len(fracText) {
			frac += int64(fracText[i] - '0')
		}
	}
	if units > (math.MaxInt64-frac)/microsPerUnit {
		return 0, ErrMoneyRange
	}
	return Micros(units*microsPerUnit + frac), nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String returns m as exact decimal text with trailing zeros trimmed but
// at least two decimals: "12.50", "0.000001", "3.00".
func (m Micros) String() string {
	var buf [32]byte
	return string(m.appendText(buf[:0]))
}

// appendText appends the text String returns.
func (m Micros) appendText(b []byte) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = -u // two's complement; exact even for math.MinInt64
	}
	b = strconv.AppendUint(b, u/microsPerUnit, 10)
	frac := u % microsPerUnit
	var digits [MaxMoneyDecimals]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := len(digits)
	for n > 2 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}
