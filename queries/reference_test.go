package queries

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReferencePageIsCurrent fails when docs/kpis.md no longer matches the
// registry.
func TestReferencePageIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := WriteReference(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../docs/kpis.md")
	if err != nil {
		t.Fatalf("%v; run `go generate ./queries/`", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("docs/kpis.md is stale; run `go generate ./queries/`")
	}
	for _, k := range Catalogue() {
		if !strings.Contains(want.String(), "| `"+k.Name+"` |") {
			t.Errorf("reference lacks %s", k.Name)
		}
	}
}
