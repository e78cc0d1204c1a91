package events

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of the event envelope,
// with the per-type rules [Parse] enforces, for publishing to producers.
// Parse does not consult it. Each call returns a fresh copy.
func Schema() []byte {
	return bytes.Clone(schema)
}
