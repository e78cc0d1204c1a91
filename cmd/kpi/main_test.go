package main

import (
	"os"
	"testing"

	"github.com/kpi-analytics/kpi/internal/apptest"
)

// TestMain closes the embedded engine before exit: its threads must stop
// before the process tears down (the race detector's exit crashed without).
func TestMain(m *testing.M) {
	code := m.Run()
	apptest.CloseEngine()
	os.Exit(code)
}
