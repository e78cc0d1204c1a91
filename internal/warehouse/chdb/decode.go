package chdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// resultFormat carries names and types ahead of the rows, which is what
// normalising values per warehouse.Result needs.
const resultFormat = "JSONCompactEachRowWithNamesAndTypes"

// sessionSettings make the engine's text output unambiguous: times in UTC,
// NaN and Inf as strings rather than null.
var sessionSettings = map[string]string{
	"session_timezone":                   "UTC",
	"output_format_json_quote_denormals": "1",
}

func decodeResult(out []byte) (*warehouse.Result, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var names, types []string
	if err := dec.Decode(&names); err != nil {
		if err == io.EOF {
			return &warehouse.Result{}, nil
		}
		return nil, fmt.Errorf("names: %w", err)
	}
	if err := dec.Decode(&types); err != nil {
		return nil, fmt.Errorf("types: %w", err)
	}
	res := &warehouse.Result{Columns: make([]warehouse.Column, len(names))}
	for i := range names {
		res.Columns[i] = warehouse.Column{Name: names[i], Type: types[i]}
	}
	for {
		var raw []any
		if err := dec.Decode(&raw); err == io.EOF {
			return res, nil
		} else if err != nil {
			return nil, fmt.Errorf("row %d: %w", len(res.Rows), err)
		}
		row := make([]any, len(raw))
		for i, v := range raw {
			nv, err := normalize(types[i], v)
			if err != nil {
				return nil, fmt.Errorf("row %d column %s: %w", len(res.Rows), names[i], err)
			}
			row[i] = nv
		}
		res.Rows = append(res.Rows, row)
	}
}

// normalize converts one JSON value of ClickHouse type typ to the Go type
// warehouse.Result promises.
func normalize(typ string, v any) (any, error) {
	if inner, ok := strip(typ, "Nullable("); ok {
		if v == nil {
			return nil, nil
		}
		typ = inner
	}
	if inner, ok := strip(typ, "LowCardinality("); ok {
		return normalize(inner, v)
	}
	if inner, ok := strip(typ, "Array("); ok {
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want array, got %T", v)
		}
		for i := range items {
			n, err := normalize(inner, items[i])
			if err != nil {
				return nil, err
			}
			items[i] = n
		}
		return items, nil
	}
	text := textOf(v)
	switch {
	case strings.HasPrefix(typ, "Int") || strings.HasPrefix(typ, "UInt"):
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", typ, text, err)
		}
		return n, nil
	case strings.HasPrefix(typ, "Float"):
		return parseFloat(text)
	case strings.HasPrefix(typ, "Decimal"):
		return TrimDecimal(text), nil
	case strings.HasPrefix(typ, "DateTime"):
		return parseTime(text)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return v, nil
}

func strip(t, prefix string) (string, bool) {
	if strings.HasPrefix(t, prefix) && strings.HasSuffix(t, ")") {
		return t[len(prefix) : len(t)-1], true
	}
	return "", false
}

func textOf(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "nan", "-nan":
		return math.NaN(), nil
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func parseTime(s string) (time.Time, error) {
	layout := "2006-01-02 15:04:05"
	if len(s) > len(layout) {
		layout += "." + strings.Repeat("0", len(s)-len(layout)-1)
	}
	return time.ParseInLocation(layout, s, time.UTC)
}

// TrimDecimal drops trailing fractional zeros ("12.50" becomes "12.5",
// "3.00" becomes "3"), the canonical decimal text both adapters return.
func TrimDecimal(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "" || s == "-" || s == "-0" {
		return "0"
	}
	return s
}
