// Command kpidoc writes the KPI reference page from the registry of
// package queries. `go generate ./queries/` runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/kpi-analytics/kpi/queries"
)

func main() {
	out := flag.String("o", "docs/kpis.md", "file to write")
	flag.Parse()
	var b bytes.Buffer
	if err := queries.WriteReference(&b); err != nil {
		fmt.Fprintln(os.Stderr, "kpidoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "kpidoc:", err)
		os.Exit(1)
	}
}
