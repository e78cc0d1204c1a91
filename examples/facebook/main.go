// Command facebook converts the public Facebook ads report
// facebook_ads_daily.csv into kpi events, as NDJSON on stdout:
//
//	go run ./examples/facebook [FILE.csv] > facebook.ndjson
//
// Without FILE it reads the report from the dataset folder ($KPI_DATASETS,
// else ../shared/datasets beside the repository). See package convert.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kpi-analytics/kpi/examples/convert"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: facebook [FILE.csv] > events.ndjson")
	}
	flag.Parse()
	err := convert.Main(flag.Args(), convert.FacebookFile, convert.Facebook, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "facebook: %v\n", err)
		os.Exit(1)
	}
}
