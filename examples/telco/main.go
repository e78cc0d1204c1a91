// Command telco converts IBM's public Telco customer churn sample
// telco_subscriptions.csv into kpi subscription events, as NDJSON on stdout:
//
//	go run ./examples/telco [-month 2024-12] [FILE.csv] > telco.ndjson
//
// Without FILE it reads the sample from the dataset folder ($KPI_DATASETS,
// else ../shared/datasets beside the repository). See package convert.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kpi-analytics/kpi/examples/convert"
)

func main() {
	month := flag.String("month", convert.TelcoMonth.Format("2006-01"),
		"reference month YYYY-MM: tenure counts up to it, churned customers leave in it")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(),
			"usage: telco [-month YYYY-MM] [FILE.csv] > events.ndjson")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*month, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "telco: %v\n", err)
		os.Exit(1)
	}
}

func run(month string, args []string) error {
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return fmt.Errorf("-month %q: want YYYY-MM", month)
	}
	return convert.Main(args, convert.TelcoFile, convert.Telco(m), os.Stdout, os.Stderr)
}
