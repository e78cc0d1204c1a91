package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzReadCSV feeds arbitrary files to the CSV importer: it must never
// panic, and every row it turns into an event must be a JSON object.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("type,tenant,occurred_at,count\nclick,acme,2024-05-01T10:00:00Z,3\n"))
	f.Add([]byte("type,count\nclick,\n\"unterminated,1\n"))
	f.Add([]byte("\ufefftype,amount\ncost,1.2.3\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for r := range readCSV(bytes.NewReader(data)) {
			if r.err != nil {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal(r.data, &obj); err != nil {
				t.Fatalf("line %d: %q is not a JSON object: %v", r.line, r.data, err)
			}
		}
	})
}
