package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/apptest"
)

// TestImportDirtyCSV: blank and malformed numeric cells, a short row and an
// event the server rejects are each reported with their line; every other row
// is imported and counted exactly.
func TestImportDirtyCSV(t *testing.T) {
	h := apptest.Start(t)
	csvText := strings.Join([]string{
		"type,tenant,occurred_at,campaign,count,amount,currency",
		"click,acme,2024-05-01T10:00:00Z,spring,3,,",
		"click,acme,2024-05-01T11:00:00Z,spring,,,",         // line 3: blank count
		"click,acme,2024-05-01T12:00:00Z,spring,x7,,",       // line 4: malformed count
		"cost,acme,2024-05-01T00:00:00Z,spring,1,12.5,EUR",  // fine
		"cost,acme,2024-05-01T00:00:00Z,spring,1,1.2.3,EUR", // line 6: malformed amount
		"click,acme,2024-05-01T13:00:00Z,spring",            // line 7: short row
		"click,acme,1999-05-01T13:00:00Z,spring,2,,",        // line 8: server rejects the date
		"click,acme,2024-05-02T09:00:00Z,summer,4,,",
	}, "\r\n") + "\r\n"
	im := importer{url: h.Base + "/v1/events", client: &http.Client{Timeout: time.Minute}}
	if err := im.run(context.Background(), readCSV(strings.NewReader(csvText)), 2); err != nil {
		t.Fatal(err)
	}
	wantLines := []string{"line 3: count", "line 4: count", "line 6: amount", "line 7:",
		"line 8: occurred_at"}
	if len(im.rejected) != len(wantLines) {
		t.Fatalf("rejected = %q, want %d entries", im.rejected, len(wantLines))
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(im.rejected[i], w) {
			t.Errorf("rejection %d = %q, want prefix %q", i, im.rejected[i], w)
		}
	}
	if im.accepted != 3 {
		t.Errorf("accepted = %d, want 3", im.accepted)
	}
	h.Idle()
	if got := h.Total("clicks"); got != "7" {
		t.Errorf("clicks = %s, want 7", got)
	}
	if got := h.Total("spend"); got != "12.50" {
		t.Errorf("spend = %s, want 12.50", got)
	}
}
