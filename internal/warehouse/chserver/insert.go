package chserver

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// tableRe matches a table name, optionally qualified by its database. Only
// names that match are spliced into an INSERT.
var tableRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// insertStatement builds "INSERT INTO `db`.`t` (`a`, `b`)". The column list
// is always explicit: it fixes the order of the appended values, and servers
// before 19.x reject a native insert without one when a column has a default.
func insertStatement(table string, cols []warehouse.Column) (string, error) {
	if !tableRe.MatchString(table) {
		return "", fmt.Errorf("table %q is not a valid [db.]table name", table)
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("insert into %s: no columns", table)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO `" + strings.Replace(table, ".", "`.`", 1) + "` (")
	for i, c := range cols {
		if !warehouse.ValidIdent(c.Name) {
			return "", fmt.Errorf("column %q is not a valid name", c.Name)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + c.Name + "`")
	}
	b.WriteString(")")
	return b.String(), nil
}

// converter turns a caller's value into the Go type clickhouse-go appends
// to a column of one ClickHouse type.
type converter func(v any) (any, error)

// converters prepares one converter per column, failing on a type Insert
// does not take and naming the column.
func converters(cols []warehouse.Column) ([]converter, error) {
	out := make([]converter, len(cols))
	for i, c := range cols {
		f, err := converterFor(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		out[i] = f
	}
	return out, nil
}

// converterFor accepts the same Go values as warehouse.RowBinaryEncoder, so
// callers insert identically through either adapter, plus a few more:
//
//	String, FixedString, Enum*   string
//	UUID                         string (or uuid.UUID)
//	Int*, UInt*                  any Go integer (or bool), range-checked
//	Float32, Float64             float64 or float32
//	DateTime, DateTime64         time.Time
//	Date, Date32                 time.Time or "2006-01-02"
//	Decimal*                     exact decimal text, or an integer already
//	                             scaled by 10^scale (kpi's money micro-units)
//	Nullable(T)                  nil or T
func converterFor(typ string) (converter, error) {
	t := strings.TrimSpace(typ)
	if inner, ok := unwrap(t, "LowCardinality"); ok {
		return converterFor(inner)
	}
	if inner, ok := unwrap(t, "Nullable"); ok {
		f, err := converterFor(inner)
		if err != nil {
			return nil, err
		}
		return func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			return f(v)
		}, nil
	}
	switch base, _, _ := strings.Cut(t, "("); base {
	case "String", "FixedString", "Enum8", "Enum16":
		return toString, nil
	case "UUID":
		return toUUID, nil
	case "Float32":
		return toFloat32, nil
	case "Float64":
		return toFloat64, nil
	case "Bool":
		return toBool, nil
	case "DateTime":
		return toDateTime, nil
	case "DateTime64":
		return toTime, nil
	case "Date", "Date32":
		return toDate, nil
	case "Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256":
		return decimalConverter(t)
	}
	if bits, signed, ok := intWidth(t); ok {
		return intConverter(bits, signed), nil
	}
	return nil, fmt.Errorf("insert of type %q is not supported", typ)
}

// unwrap returns T from "Wrapper(T)".
func unwrap(t, wrapper string) (string, bool) {
	if strings.HasPrefix(t, wrapper+"(") && strings.HasSuffix(t, ")") {
		return strings.TrimSpace(t[len(wrapper)+1 : len(t)-1]), true
	}
	return "", false
}

func toString(v any) (any, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return nil, fmt.Errorf("want string, got %T", v)
}

func toUUID(v any) (any, error) {
	switch x := v.(type) {
	case uuid.UUID:
		return x, nil
	case string:
		u, err := uuid.Parse(x)
		if err != nil {
			return nil, fmt.Errorf("uuid %q: %w", x, err)
		}
		return u, nil
	}
	return nil, fmt.Errorf("want UUID string, got %T", v)
}

func toFloat64(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("want float64, got %T", v)
}

func toFloat32(v any) (any, error) {
	switch x := v.(type) {
	case float32:
		return x, nil
	case float64:
		return float32(x), nil
	}
	return nil, fmt.Errorf("want float64, got %T", v)
}

func toBool(v any) (any, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return nil, fmt.Errorf("want bool, got %T", v)
}

func toTime(v any) (any, error) {
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	return nil, fmt.Errorf("want time.Time, got %T", v)
}

// toDateTime range-checks, because DateTime holds seconds in a UInt32 and a
// time outside it would otherwise wrap silently.
func toDateTime(v any) (any, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, fmt.Errorf("want time.Time, got %T", v)
	}
	if s := t.Unix(); s < 0 || s > math.MaxUint32 {
		return nil, fmt.Errorf("time %s out of DateTime range", t.UTC())
	}
	return t, nil
}

func toDate(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		t, err := time.ParseInLocation(time.DateOnly, x, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("date %q: %w", x, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("want time.Time or date text, got %T", v)
}

// decimalScale reads S from Decimal(P, S) or DecimalN(S).
func decimalScale(t string) (int32, error) {
	_, args, _ := strings.Cut(strings.TrimSuffix(t, ")"), "(")
	parts := strings.Split(args, ",")
	s, err := strconv.Atoi(strings.TrimSpace(parts[len(parts)-1]))
	if err != nil || s < 0 || s > 76 || (strings.HasPrefix(t, "Decimal(") && len(parts) != 2) {
		return 0, fmt.Errorf("bad decimal type %q", t)
	}
	return int32(s), nil
}

// decimalConverter rejects values with more fractional digits than the
// column keeps, which the driver would otherwise truncate.
func decimalConverter(t string) (converter, error) {
	scale, err := decimalScale(t)
	if err != nil {
		return nil, err
	}
	return func(v any) (any, error) {
		var d decimal.Decimal
		switch x := v.(type) {
		case string:
			var err error
			if d, err = decimal.NewFromString(x); err != nil {
				return nil, fmt.Errorf("decimal %q: %w", x, err)
			}
		case decimal.Decimal:
			d = x
		default:
			n, err := intOf(v)
			if err != nil {
				return nil, fmt.Errorf("want decimal text or scaled integer, got %T", v)
			}
			d = decimal.NewFromUint64(n.abs)
			if n.neg {
				d = d.Neg()
			}
			return d.Shift(-scale), nil
		}
		if !d.Truncate(scale).Equal(d) {
			return nil, fmt.Errorf("decimal %s has more than %d fractional digits", d, scale)
		}
		return d, nil
	}, nil
}

// intWidth parses Int8..Int64 and UInt8..UInt64.
func intWidth(t string) (bits int, signed, ok bool) {
	rest, unsigned := strings.CutPrefix(t, "U")
	digits, isInt := strings.CutPrefix(rest, "Int")
	if !isInt {
		return 0, false, false
	}
	switch digits {
	case "8", "16", "32", "64":
		bits, _ = strconv.Atoi(digits)
		return bits, !unsigned, true
	}
	return 0, false, false
}

// integer is a Go integer of any type as sign and magnitude, which holds
// every int64 and uint64 without loss.
type integer struct {
	neg bool
	abs uint64
}

func intOf(v any) (integer, error) {
	switch x := v.(type) {
	case int:
		return signedInt(int64(x)), nil
	case int8:
		return signedInt(int64(x)), nil
	case int16:
		return signedInt(int64(x)), nil
	case int32:
		return signedInt(int64(x)), nil
	case int64:
		return signedInt(x), nil
	case uint:
		return integer{abs: uint64(x)}, nil
	case uint8:
		return integer{abs: uint64(x)}, nil
	case uint16:
		return integer{abs: uint64(x)}, nil
	case uint32:
		return integer{abs: uint64(x)}, nil
	case uint64:
		return integer{abs: x}, nil
	case bool:
		if x {
			return integer{abs: 1}, nil
		}
		return integer{}, nil
	}
	return integer{}, fmt.Errorf("want integer, got %T", v)
}

func signedInt(n int64) integer {
	if n < 0 {
		// -(n+1)+1 stays in range for math.MinInt64.
		return integer{neg: true, abs: uint64(-(n + 1)) + 1}
	}
	return integer{abs: uint64(n)}
}

// intConverter converts to the exact Go type of the column width, because
// clickhouse-go refuses an int64 for a UInt8 column.
func intConverter(bits int, signed bool) converter {
	return func(v any) (any, error) {
		n, err := intOf(v)
		if err != nil {
			return nil, err
		}
		if !fits(n, bits, signed) {
			return nil, fmt.Errorf("value %s out of range for %s", n, intName(bits, signed))
		}
		return exact(n, bits, signed), nil
	}
}

func (n integer) String() string {
	if n.neg {
		return "-" + strconv.FormatUint(n.abs, 10)
	}
	return strconv.FormatUint(n.abs, 10)
}

func intName(bits int, signed bool) string {
	if signed {
		return "Int" + strconv.Itoa(bits)
	}
	return "UInt" + strconv.Itoa(bits)
}

func fits(n integer, bits int, signed bool) bool {
	if !signed {
		return !n.neg && (bits == 64 || n.abs < 1<<bits)
	}
	limit := uint64(1) << (bits - 1) // |min|; max is limit-1
	if n.neg {
		return n.abs <= limit
	}
	return n.abs < limit
}

// exact assumes fits(n, bits, signed); two's complement makes the negative
// conversions below correct for every width.
func exact(n integer, bits int, signed bool) any {
	u := n.abs
	if n.neg {
		u = -u
	}
	switch {
	case signed && bits == 8:
		return int8(u)
	case signed && bits == 16:
		return int16(u)
	case signed && bits == 32:
		return int32(u)
	case signed:
		return int64(u)
	case bits == 8:
		return uint8(u)
	case bits == 16:
		return uint16(u)
	case bits == 32:
		return uint32(u)
	}
	return u
}
