package projections_test

import (
	"os"
	"testing"
)

// TestMain closes the embedded engine before exit: its threads must stop
// before the process tears down (the race detector's exit crashed without).
func TestMain(m *testing.M) {
	code := m.Run()
	if whConn != nil {
		_ = whConn.Close()
	}
	os.Exit(code)
}
