package chserver

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// normalize converts one value scanned by clickhouse-go from a column of
// ClickHouse type typ to the Go type warehouse.Result promises, so that this
// adapter answers exactly as the embedded one does. Types the Result
// contract does not name (Bool, Map, Tuple, ...) pass through as scanned,
// except that values with a String method become their text (IPv4, IPv6).
func normalize(typ string, v any) (any, error) {
	typ = strings.TrimSpace(typ)
	if inner, ok := unwrap(typ, "LowCardinality"); ok {
		return normalize(inner, v)
	}
	if inner, ok := unwrap(typ, "Nullable"); ok {
		rv := reflect.ValueOf(v)
		if v == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
			return nil, nil
		}
		if rv.Kind() == reflect.Pointer {
			v = rv.Elem().Interface()
		}
		return normalize(inner, v)
	}
	if inner, ok := unwrap(typ, "Array"); ok {
		return normalizeArray(inner, v)
	}
	return normalizeScalar(typ, v)
}

func normalizeArray(inner string, v any) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("want slice for Array(%s), got %T", inner, v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		n, err := normalize(inner, rv.Index(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = n
	}
	return out, nil
}

func normalizeScalar(typ string, v any) (any, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("%s value %d exceeds int64", typ, x)
		}
		return int64(x), nil
	case *big.Int: // Int128, Int256, UInt128, UInt256
		if x == nil || !x.IsInt64() {
			return nil, fmt.Errorf("%s value %v exceeds int64", typ, x)
		}
		return x.Int64(), nil
	case float32:
		// Via the shortest text, so 0.1 stays 0.1 rather than 0.10000000149.
		return strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	case float64:
		return x, nil
	case decimal.Decimal:
		return x.String(), nil
	case uuid.UUID:
		return x.String(), nil
	case time.Time:
		if strings.HasPrefix(typ, "DateTime") {
			return x.UTC(), nil
		}
		return x.Format(time.DateOnly), nil // Date, Date32
	case string, bool:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return v, nil
}
