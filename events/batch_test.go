package events

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitBatch(t *testing.T) {
	a, b, c := `{"n":1}`, `{"n":"2, ]}"}`, `{"n":{"x":[3]}}`
	tests := []struct {
		name     string
		body     string
		wantRaws []string // "" for a rejected entry
		wantErrs []int    // indexes with a FieldError
	}{
		{"array", "[" + a + "," + b + "," + c + "]", []string{a, b, c}, nil},
		{"array with space", " \n[ " + a + " ,\n\t" + b + " ]\n", []string{a, b}, nil},
		{"array one", "[" + a + "]", []string{a}, nil},
		{"array non-objects", `[1, "x", ` + a + `, null, [1]]`,
			[]string{"", "", a, "", ""}, []int{0, 1, 3, 4}},
		{"array garbled object", `[{"n":tru}, ` + a + `]`, []string{`{"n":tru}`, a}, nil},
		{"ndjson", a + "\n" + b + "\n" + c, []string{a, b, c}, nil},
		{"ndjson trailing newline", a + "\n" + b + "\n", []string{a, b}, nil},
		{"ndjson CRLF", a + "\r\n" + b + "\r\n", []string{a, b}, nil},
		{"ndjson blank lines", "\n\n" + a + "\n  \n\r\n" + b + "\n\n", []string{a, b}, nil},
		{"ndjson broken middle", a + "\n" + `{"n":` + "\n" + b, []string{a, "", b}, []int{1}},
		{"ndjson scalar line", a + "\n42\n" + b, []string{a, "", b}, []int{1}},
		{"ndjson single object", a, []string{a}, nil},
		{"BOM", "\xef\xbb\xbf" + a, []string{a}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raws, errs, err := SplitBatch([]byte(tc.body))
			if err != nil {
				t.Fatalf("SplitBatch(%q): %v", tc.body, err)
			}
			if got, want := len(raws), len(tc.wantRaws); got != want {
				t.Fatalf("SplitBatch(%q) entries: got %d, want %d", tc.body, got, want)
			}
			for i, raw := range raws {
				if got, want := string(raw), tc.wantRaws[i]; got != want {
					t.Errorf("entry %d: got %q, want %q", i, got, want)
				}
			}
			checkBatchErrs(t, errs, tc.wantErrs)
		})
	}
}

func checkBatchErrs(t *testing.T, errs []FieldError, want []int) {
	t.Helper()
	if got, want := len(errs), len(want); got != want {
		t.Fatalf("errors: got %v, want indexes %v", errs, want)
	}
	for i, fe := range errs {
		if got, want := fe.Index, want[i]; got != want {
			t.Errorf("error %d index: got %d, want %d", i, got, want)
		}
		if fe.Field != "" || fe.Reason == "" {
			t.Errorf("error %d: got field %q reason %q, want no field and a reason",
				i, fe.Field, fe.Reason)
		}
	}
}

func TestSplitBatchFails(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", "", ErrEmptyBatch},
		{"blank", " \r\n\n\t ", ErrEmptyBatch},
		{"empty array", "[]", ErrEmptyBatch},
		{"empty array spaced", " [ \n ] ", ErrEmptyBatch},
		{"unterminated array", `[{"n":1}`, ErrMalformedBatch},
		{"unterminated object", `[{"n":1]`, ErrMalformedBatch},
		{"unterminated string", `[{"n":"1}]`, ErrMalformedBatch},
		{"mismatched", `[{"n":[1}]]`, ErrMalformedBatch},
		{"missing comma", `[{"n":1} {"n":2}]`, ErrMalformedBatch},
		{"trailing comma", `[{"n":1},]`, ErrMalformedBatch},
		{"leading comma", `[,{"n":1}]`, ErrMalformedBatch},
		{"data after array", `[{"n":1}] x`, ErrMalformedBatch},
		{"data after empty array", `[] x`, ErrMalformedBatch},
		{"too deep", "[" + strings.Repeat("[", 70) + strings.Repeat("]", 71), ErrMalformedBatch},
		{"just bracket", "[", ErrMalformedBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raws, errs, err := SplitBatch([]byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("SplitBatch(%q): got %v, want %v", tc.body, err, tc.want)
			}
			if raws != nil || errs != nil {
				t.Errorf("SplitBatch(%q): got %d raws, %d errs, want none", tc.body,
					len(raws), len(errs))
			}
		})
	}
}

// TestSplitBatchThenParse checks that a bad NDJSON line costs only its index.
func TestSplitBatchThenParse(t *testing.T) {
	good := `{"type":"click","tenant":"a","occurred_at":"2024-03-31T00:00:00Z","campaign":"c"}`
	body := good + "\n" + `{"type":"click","tenant":"a",` + "\n" +
		`{"type":"click","tenant":"a.b","occurred_at":"2024-03-31T00:00:00Z","campaign":"c"}` +
		"\n" + good + "\n"
	raws, errs, err := SplitBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, fe := range errs {
		bad = append(bad, fe.Error())
	}
	for i, raw := range raws {
		if raw == nil {
			continue
		}
		if _, fe := Parse(raw, testNow, fixedID); fe != nil {
			fe.Index = i
			bad = append(bad, fe.Error())
		}
	}
	want := []string{
		"event 1: must be a JSON object on one line",
		`event 2: field "tenant": ` + reasonTenant,
	}
	if got := strings.Join(bad, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n got %s\nwant %s", got, strings.Join(want, "\n"))
	}
}
