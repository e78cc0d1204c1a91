package queries

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestEveryKPIRuns runs each KPI of the catalogue over an empty database,
// grouped by each of its dimensions, filtered by each, by day in Paris,
// compared with the previous period and converted: every query must be
// valid SQL and every row's shape right.
func TestEveryKPIRuns(t *testing.T) {
	e := engineWith(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	for _, k := range Catalogue() {
		t.Run(k.Name, func(t *testing.T) {
			base := Request{KPI: k.Name, From: time.Date(2024, 3, 30, 0, 0, 0, 0, paris),
				To: time.Date(2024, 4, 2, 0, 0, 0, 0, paris), Window: WindowDay, Location: paris,
				Compare: ComparePrevious, ConvertTo: "EUR"}
			ans := run(t, e, base)
			if got, want := len(ans.Rows), 3; got != want {
				t.Errorf("rows: got %d, want %d", got, want)
			}
			for _, d := range k.Dimensions {
				req := base
				req.GroupBy = []string{d}
				run(t, e, req)
				req = base
				req.Filters = map[string]string{d: "x'y"}
				run(t, e, req)
			}
		})
	}
}

func TestCatalogueIsComplete(t *testing.T) {
	for _, k := range Catalogue() {
		if k.Description == "" || k.Formula == "" || k.Unit == "" || len(k.EventTypes) == 0 ||
			len(k.Dimensions) == 0 || k.Category == "" {
			t.Errorf("%s: incomplete entry %+v", k.Name, k)
		}
		if _, ok := unitMeanings[k.Unit]; !ok {
			t.Errorf("%s: unit %q has no meaning", k.Name, k.Unit)
		}
	}
	if got, want := len(Catalogue()), 70; got < want {
		t.Errorf("catalogue: got %d KPIs, want at least %d", got, want)
	}
}

func TestConvertToNeedsARate(t *testing.T) {
	req := whole("spend")
	req.ConvertTo = "XAU"
	_, err := req.Validate()
	var re *RequestError
	if !errors.As(err, &re) || re.Param != "convert_to" {
		t.Errorf("err = %v, want RequestError on convert_to", err)
	}
	_ = context.Background
}
