package chserver

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

func TestInsertStatement(t *testing.T) {
	cols := []warehouse.Column{{Name: "id", Type: "UInt64"}, {Name: "at", Type: "DateTime"}}
	tests := []struct {
		name  string
		table string
		cols  []warehouse.Column
		want  string // empty: an error is expected
	}{
		{"qualified", "db.events", cols, "INSERT INTO `db`.`events` (`id`, `at`)"},
		{"unqualified", "_events1", cols[:1], "INSERT INTO `_events1` (`id`)"},
		{"empty table", "", cols, ""},
		{"three parts", "a.b.c", cols, ""},
		{"leading digit", "db.1x", cols, ""},
		{"backquote", "db.`x`", cols, ""},
		{"injection", "db.x (id) SELECT 1 --", cols, ""},
		{"space", "db.x ", cols, ""},
		{"trailing dot", "db.", cols, ""},
		{"no columns", "db.x", nil, ""},
		{"bad column", "db.x", []warehouse.Column{{Name: "a-b", Type: "String"}}, ""},
		{"column with backquote", "db.x", []warehouse.Column{{Name: "a`", Type: "String"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := insertStatement(tt.table, tt.cols)
			if tt.want == "" {
				if err == nil {
					t.Errorf("insertStatement(%q) = %q, want error", tt.table, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("insertStatement(%q) = %q, %v; want %q", tt.table, got, err, tt.want)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	id := "0195f5c3-2b1e-7a1e-9f00-000000000001"
	tests := []struct {
		name string
		typ  string
		in   any
		want any
	}{
		{"String", "String", "x", "x"},
		{"LowCardinality", "LowCardinality(String)", "x", "x"},
		{"FixedString", "FixedString(2)", "ab", "ab"},
		{"Enum8", "Enum8('a' = 1)", "a", "a"},
		{"UUID text", "UUID", id, uuid.MustParse(id)},
		{"UUID value", "UUID", uuid.MustParse(id), uuid.MustParse(id)},
		{"Int8 from int64", "Int8", int64(-128), int8(-128)},
		{"Int16 from int", "Int16", 32767, int16(32767)},
		{"Int32 from uint16", "Int32", uint16(65535), int32(65535)},
		{"Int64 min", "Int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"Int64 from uint32", "Int64", uint32(7), int64(7)},
		{"UInt8 from int64", "UInt8", int64(255), uint8(255)},
		{"UInt8 from bool", "UInt8", true, uint8(1)},
		{"UInt16", "UInt16", int32(65535), uint16(65535)},
		{"UInt32 from uint32", "UInt32", uint32(math.MaxUint32), uint32(math.MaxUint32)},
		{"UInt64 from int64", "UInt64", int64(math.MaxInt64), uint64(math.MaxInt64)},
		{"UInt64 max", "UInt64", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"Float64", "Float64", 1.25, 1.25},
		{"Float64 from float32", "Float64", float32(0.5), 0.5},
		{"Float32", "Float32", 0.5, float32(0.5)},
		{"Bool", "Bool", true, true},
		{"DateTime", "DateTime", at, at},
		{"DateTime tz", "DateTime('UTC')", at, at},
		{"DateTime64", "DateTime64(3, 'UTC')", at, at},
		{"Date time", "Date", at, at},
		{"Date text", "Date", "2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"Decimal text", "Decimal(18, 6)", "12.5", decimal.RequireFromString("12.5")},
		{"Decimal full scale", "Decimal(18, 6)", "-0.000001", decimal.New(-1, -6)},
		{"Decimal trailing zeros", "Decimal(18, 2)", "1.2500", decimal.RequireFromString("1.25")},
		{"Decimal micro-units", "Decimal(18, 6)", int64(1_500_000), decimal.New(1_500_000, -6)},
		{"Decimal negative micro-units", "Decimal(18, 6)", int64(-1), decimal.New(-1, -6)},
		{"Decimal64 scale", "Decimal64(2)", int64(150), decimal.New(150, -2)},
		{"Nullable nil", "Nullable(String)", nil, nil},
		{"Nullable value", "Nullable(UInt8)", int64(3), uint8(3)},
		{"LowCardinality Nullable", "LowCardinality(Nullable(String))", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := converterFor(tt.typ)
			if err != nil {
				t.Fatalf("converterFor(%q): %v", tt.typ, err)
			}
			got, err := f(tt.in)
			if err != nil {
				t.Fatalf("convert %#v to %s: %v", tt.in, tt.typ, err)
			}
			if !sameConverted(got, tt.want) {
				t.Errorf("convert %#v to %s = %#v (%T), want %#v (%T)",
					tt.in, tt.typ, got, got, tt.want, tt.want)
			}
		})
	}
}

func sameConverted(got, want any) bool {
	if w, ok := want.(decimal.Decimal); ok {
		g, ok := got.(decimal.Decimal)
		return ok && g.Equal(w)
	}
	return reflect.DeepEqual(got, want)
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		in   any
		msg  string // part of the error text
	}{
		{"UInt8 overflow", "UInt8", int64(256), "out of range for UInt8"},
		{"UInt8 negative", "UInt8", -1, "out of range for UInt8"},
		{"Int8 overflow", "Int8", 128, "out of range for Int8"},
		{"Int8 underflow", "Int8", int64(-129), "out of range for Int8"},
		{"Int64 from big uint64", "Int64", uint64(math.MaxInt64) + 1, "out of range for Int64"},
		{"UInt64 negative", "UInt64", int64(-1), "out of range for UInt64"},
		{"UInt32 overflow", "UInt32", uint64(math.MaxUint32) + 1, "out of range for UInt32"},
		{"Int64 from float", "Int64", 1.0, "want integer"},
		{"Int64 from string", "Int64", "1", "want integer"},
		{"String from int", "String", 1, "want string"},
		{"UUID bad", "UUID", "nope", "uuid"},
		{"Float64 from int", "Float64", 1, "want float64"},
		{"DateTime before 1970", "DateTime", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC),
			"out of DateTime range"},
		{"DateTime after 2106", "DateTime", time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC),
			"out of DateTime range"},
		{"DateTime from string", "DateTime", "2024-01-01 00:00:00", "want time.Time"},
		{"Date bad text", "Date", "2024-13-01", "date"},
		{"Decimal too precise", "Decimal(18, 2)", "1.255", "more than 2 fractional digits"},
		{"Decimal bad text", "Decimal(18, 6)", "1,5", "decimal"},
		{"Decimal from float", "Decimal(18, 6)", 1.5, "want decimal text or scaled integer"},
		{"Nullable inner", "Nullable(UInt8)", 300, "out of range for UInt8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := converterFor(tt.typ)
			if err != nil {
				t.Fatalf("converterFor(%q): %v", tt.typ, err)
			}
			got, err := f(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("convert %#v to %s = %#v, %v; want error containing %q",
					tt.in, tt.typ, got, err, tt.msg)
			}
		})
	}
}

func TestConverterForUnsupported(t *testing.T) {
	for _, typ := range []string{"Array(String)", "Map(String, UInt8)", "Int128", "Decimal(18)",
		"Decimal(18, x)", "Nullable(Array(String))", "Int12", "Tuple(String)"} {
		if _, err := converterFor(typ); err == nil {
			t.Errorf("converterFor(%q) succeeded, want error", typ)
		}
	}
}

func TestConvertersNameColumn(t *testing.T) {
	cols := []warehouse.Column{{Name: "ok", Type: "String"}, {Name: "tags", Type: "Array(String)"}}
	_, err := converters(cols)
	if err == nil || !strings.Contains(err.Error(), "column tags") {
		t.Errorf("converters: %v, want error naming column tags", err)
	}
}
