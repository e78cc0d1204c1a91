package events

import (
	"errors"
	"math"
	"testing"
)

func TestParseMicros(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Micros
		wantErr error
	}{
		{"integer", "12", 12_000_000, nil},
		{"cents", "12.34", 12_340_000, nil},
		{"one micro", "0.000001", 1, nil},
		{"six decimals", "1.123456", 1_123_456, nil},
		{"trailing zeros", "3.000000", 3_000_000, nil},
		{"zero", "0", 0, nil},
		{"max", "9223372036854.775807", math.MaxInt64, nil},
		{"over max fraction", "9223372036854.775808", 0, ErrMoneyRange},
		{"over max units", "9223372036855", 0, ErrMoneyRange},
		{"huge", "99999999999999999999999999", 0, ErrMoneyRange},
		{"seven decimals", "1.1234567", 0, ErrMoneyPrecision},
		{"seven zero decimals", "1.0000000", 0, ErrMoneyPrecision},
		{"negative", "-0.5", 0, ErrMoneyNegative},
		{"negative zero", "-0", 0, ErrMoneyNegative},
		{"plus", "+1", 0, ErrMoneySyntax},
		{"empty", "", 0, ErrMoneySyntax},
		{"exponent", "1e3", 0, ErrMoneySyntax},
		{"exponent after fraction", "1.5E3", 0, ErrMoneySyntax},
		{"NaN", "NaN", 0, ErrMoneySyntax},
		{"Infinity", "Infinity", 0, ErrMoneySyntax},
		{"leading dot", ".5", 0, ErrMoneySyntax},
		{"trailing dot", "5.", 0, ErrMoneySyntax},
		{"leading zero", "05", 0, ErrMoneySyntax},
		{"two dots", "1.2.3", 0, ErrMoneySyntax},
		{"space", "1 ", 0, ErrMoneySyntax},
		{"hex", "0x10", 0, ErrMoneySyntax},
		{"underscore", "1_000", 0, ErrMoneySyntax},
		{"comma", "1,5", 0, ErrMoneySyntax},
		{"non-ASCII digit", "١", 0, ErrMoneySyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMicros(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseMicros(%q) error: got %v, want %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParseMicros(%q): got %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestMicrosString(t *testing.T) {
	tests := []struct {
		in   Micros
		want string
	}{
		{12_500_000, "12.50"},
		{1, "0.000001"},
		{3_000_000, "3.00"},
		{0, "0.00"},
		{10, "0.00001"},
		{1_234_567, "1.234567"},
		{100_000, "0.10"},
		{-1_500_000, "-1.50"},
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Micros(%d).String(): got %q, want %q", int64(tc.in), got, tc.want)
		}
	}
}

func TestMicrosStringRoundTrip(t *testing.T) {
	for _, m := range []Micros{0, 1, 99, 1_000_000, 12_345_678, math.MaxInt64} {
		got, err := ParseMicros(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMicros(%q): got %d, %v, want %d", m.String(), got, err, m)
		}
	}
}
