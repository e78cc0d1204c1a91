package events_test

import (
	"fmt"
	"time"

	"github.com/kpi-analytics/kpi/events"
)

func ExampleParse() {
	now := time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	newID := func() string { return "01890a5d-ac96-774b-bcce-b302099a8057" }
	ev, fe := events.Parse([]byte(`{"type":"cost","tenant":"acme",
		"occurred_at":"2024-03-31T02:30:00+02:00","campaign":"spring",
		"amount":"1250.5","currency":"EUR","count":31}`), now, newID)
	if fe != nil {
		fmt.Println(fe)
		return
	}
	fmt.Println(ev.Type, ev.OccurredAt.Format(time.RFC3339), ev.Amount, ev.Currency, ev.Count)
	// Output: cost 2024-03-31T00:30:00Z 1250.50 EUR 31
}

func ExampleSplitBatch() {
	body := []byte("{\"type\":\"click\"}\r\n\r\nnot json\n{\"type\":\"signup\"}\n")
	raws, errs, err := events.SplitBatch(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(raws), "entries")
	for _, fe := range errs {
		fmt.Println(fe)
	}
	// Output:
	// 3 entries
	// event 1: must be a JSON object on one line
}

func ExampleMicros_String() {
	for _, s := range []string{"12.5", "0.000001", "3"} {
		m, err := events.ParseMicros(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(int64(m), m)
	}
	// Output:
	// 12500000 12.50
	// 1 0.000001
	// 3000000 3.00
}
