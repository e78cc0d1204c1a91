package projections_test

import (
	"os"
	"testing"

	"github.com/kpi-analytics/kpi/internal/warehouse/chdb/chdbtest"
)

// TestMain closes the shared embedded engine before exit (see chdbtest.Close).
func TestMain(m *testing.M) {
	code := m.Run()
	chdbtest.Close()
	os.Exit(code)
}
