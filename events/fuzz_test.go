package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, tc := range typeCases(f) {
		f.Add(tc.obj.json())
	}
	f.Add([]byte(`{"type":"cost","tenant":"t","occurred_at":"2024-03-31T00:00:00Z",` +
		`"campaign":"c","amount":9223372036854.775807,"currency":"USD"}`))
	f.Add([]byte(`{"type":"click","tenant":"t","occurred_at":"2024-03-31T00:00:00.1+14:00",` +
		`"campaign":"\ud83d\ude00\u00e9","count":1000000000000}`))
	f.Add([]byte(`{"type":"conversion","tenant":"t","occurred_at":"2024-03-31T00:00:00Z",` +
		`"value":1e3,"currency":"EUR"}`))
	f.Add([]byte(`{"\u0074ype":"signup","tenant":"t","occurred_at":"2024-03-31T00:00:00Z"}`))
	f.Add([]byte(`{"type":"click","type":"click"}`))
	f.Add([]byte("{\"type\":\"click\",\"campaign\":\"\xff\"}"))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, fe := Parse(data, testNow, fixedID)
		if fe != nil {
			if fe.Reason == "" || fe.Index != 0 {
				t.Fatalf("Parse(%q): bad error %#v", data, fe)
			}
			return
		}
		checkRoundTrip(t, ev)
	})
}

// checkRoundTrip asserts that an accepted event survives the broker and a
// second pass through Parse unchanged.
func checkRoundTrip(t *testing.T, ev Event) {
	t.Helper()
	data, err := Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("Marshal(%+v) = %s is not valid JSON", ev, data)
	}
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if got != ev {
		t.Fatalf("Unmarshal(Marshal(ev))\n got %+v\nwant %+v", got, ev)
	}
	again, fe := Parse(data, testNow, fixedID)
	if fe != nil {
		t.Fatalf("Parse(Marshal(ev)) = %v for %s", fe, data)
	}
	if again != ev {
		t.Fatalf("Parse(Marshal(ev))\n got %+v\nwant %+v", again, ev)
	}
}

func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte(`[{"a":1},{"b":"]}"},2]`))
	f.Add([]byte("{\"a\":1}\r\n\n{\"b\":\n{\"c\":[]}\n"))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(`[{"a":"\"}"}, [[{}]], "x"]`))
	f.Add([]byte(`[{"a":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, errs, err := SplitBatch(body)
		if err != nil {
			if raws != nil || errs != nil {
				t.Fatalf("SplitBatch(%q): results alongside error %v", body, err)
			}
			checkAgainstStdlib(t, body, err)
			return
		}
		checkSplit(t, body, raws, errs)
		checkAgainstStdlib(t, body, nil)
		for _, raw := range raws {
			if raw != nil {
				Parse(raw, testNow, fixedID)
			}
		}
	})
}

func checkSplit(t *testing.T, body []byte, raws [][]byte, errs []FieldError) {
	t.Helper()
	if len(raws) == 0 {
		t.Fatalf("SplitBatch(%q): no entries and no error", body)
	}
	rejected := 0
	for i, raw := range raws {
		if raw == nil {
			rejected++
			continue
		}
		if raw[0] != '{' || raw[len(raw)-1] != '}' || !bytes.Contains(body, raw) {
			t.Fatalf("SplitBatch(%q): entry %d = %q is not an object of the body", body, i, raw)
		}
	}
	if got, want := len(errs), rejected; got != want {
		t.Fatalf("SplitBatch(%q): got %d errors, want %d", body, got, want)
	}
	for _, fe := range errs {
		if fe.Index < 0 || fe.Index >= len(raws) || raws[fe.Index] != nil || fe.Reason == "" {
			t.Fatalf("SplitBatch(%q): bad error %#v", body, fe)
		}
	}
}

// checkAgainstStdlib compares the split of a valid JSON array with
// encoding/json's.
func checkAgainstStdlib(t *testing.T, body []byte, err error) {
	t.Helper()
	var elems []json.RawMessage
	trimmed := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if json.Unmarshal(trimmed, &elems) != nil || elems == nil {
		return
	}
	if len(elems) == 0 {
		if !errors.Is(err, ErrEmptyBatch) {
			t.Fatalf("SplitBatch(%q): got %v, want ErrEmptyBatch", body, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("SplitBatch(%q) of a valid array: %v", body, err)
	}
	raws, _, _ := SplitBatch(body)
	if got, want := len(raws), len(elems); got != want {
		t.Fatalf("SplitBatch(%q): got %d entries, want %d", body, got, want)
	}
	for i, raw := range raws {
		if raw != nil && !bytes.Equal(raw, elems[i]) {
			t.Fatalf("SplitBatch(%q) entry %d: got %q, want %q", body, i, raw, elems[i])
		}
	}
}
