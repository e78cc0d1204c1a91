package projections_test

import (
	"reflect"
	"testing"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/projections"
)

// FuzzDecodeMessage feeds arbitrary stream messages to the projector's
// decoder: anything on the events subjects is outside input. It must never
// panic, and what it accepts must survive a round trip through the codec.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"id":"0195f5c3-2b1e-7a1e-9f00-000000000001","type":"click","tenant":"acme",` +
		`"occurred_at":"2024-05-01T10:00:00.000Z","received_at":"2024-05-01T10:00:01.000Z",` +
		`"campaign":"c","count":1}` + "\n"))
	f.Add([]byte("{not json"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := projections.DecodeMessage(data)
		if err != nil {
			return
		}
		for _, e := range evs {
			b, err := events.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			back, err := events.Unmarshal(b)
			if err != nil || !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip of %q: %v, %+v != %+v", b, err, back, e)
			}
		}
	})
}
