package chserver

import (
	"math"
	"math/big"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func ptr[T any](v T) *T { return &v }

func TestNormalize(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		name string
		typ  string
		in   any
		want any
	}{
		{"Int8", "Int8", int8(-8), int64(-8)},
		{"Int16", "Int16", int16(-16), int64(-16)},
		{"Int32", "Int32", int32(-32), int64(-32)},
		{"Int64", "Int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"UInt8", "UInt8", uint8(255), int64(255)},
		{"UInt16", "UInt16", uint16(65535), int64(65535)},
		{"UInt32", "UInt32", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"UInt64 max int64", "UInt64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"Int128", "Int128", big.NewInt(-7), int64(-7)},
		{"Float32 shortest", "Float32", float32(0.1), 0.1},
		{"Float64", "Float64", 1.5, 1.5},
		{"Float64 inf", "Float64", math.Inf(-1), math.Inf(-1)},
		{"Decimal trims zeros", "Decimal(18, 6)", decimal.RequireFromString("12.500000"), "12.5"},
		{"Decimal integral", "Decimal(38, 6)", decimal.New(3000000, -6), "3"},
		{"Decimal negative", "Decimal64(6)", decimal.New(-1, -6), "-0.000001"},
		{"String", "String", "x'y", "x'y"},
		{"LowCardinality", "LowCardinality(String)", "camp", "camp"},
		{"Enum8", "Enum8('a' = 1)", "a", "a"},
		{"UUID", "UUID", uuid.MustParse("0195f5c3-2b1e-7a1e-9f00-000000000001"),
			"0195f5c3-2b1e-7a1e-9f00-000000000001"},
		{"Date", "Date", time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), "2024-03-31"},
		{"DateTime to UTC", "DateTime('Europe/Moscow')",
			time.Date(2024, 3, 31, 3, 30, 0, 0, moscow),
			time.Date(2024, 3, 31, 0, 30, 0, 0, time.UTC)},
		{"DateTime64", "DateTime64(3, 'UTC')", time.Date(2024, 3, 31, 0, 0, 0, 123e6, time.UTC),
			time.Date(2024, 3, 31, 0, 0, 0, 123e6, time.UTC)},
		{"Nullable nil pointer", "Nullable(String)", (*string)(nil), nil},
		{"Nullable untyped nil", "Nullable(Int64)", nil, nil},
		{"Nullable value", "Nullable(UInt8)", ptr(uint8(7)), int64(7)},
		{"LowCardinality Nullable", "LowCardinality(Nullable(String))", ptr("x"), "x"},
		{"Array", "Array(UInt8)", []uint8{1, 2}, []any{int64(1), int64(2)}},
		{"Array of Nullable", "Array(Nullable(String))", []*string{ptr("a"), nil},
			[]any{"a", nil}},
		{"Array of Array", "Array(Array(Int32))", [][]int32{{1}, {}},
			[]any{[]any{int64(1)}, []any{}}},
		{"empty Array", "Array(String)", []string{}, []any{}},
		{"Bool passes through", "Bool", true, true},
		{"IPv4 as text", "IPv4", net.IPv4(10, 0, 0, 1), "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalize(tt.typ, tt.in)
			if err != nil {
				t.Fatalf("normalize(%q, %#v): %v", tt.typ, tt.in, err)
			}
			if !sameValue(got, tt.want) {
				t.Errorf("normalize(%q, %#v) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeNaN(t *testing.T) {
	got, err := normalize("Float64", math.NaN())
	if f, ok := got.(float64); err != nil || !ok || !math.IsNaN(f) {
		t.Errorf("normalize(NaN) = %#v, %v; want NaN", got, err)
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		in   any
	}{
		{"UInt64 above int64", "UInt64", uint64(math.MaxInt64) + 1},
		{"UInt256 above int64", "UInt256", new(big.Int).Lsh(big.NewInt(1), 64)},
		{"Array not a slice", "Array(String)", "x"},
		{"Array element", "Array(UInt64)", []uint64{math.MaxUint64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := normalize(tt.typ, tt.in); err == nil {
				t.Errorf("normalize(%q, %#v) = %#v, want error", tt.typ, tt.in, got)
			}
		})
	}
}

// sameValue compares normalised values: times by instant and only in UTC,
// arrays element by element, everything else by type and value.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}
