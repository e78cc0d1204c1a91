package chdb

import (
	"os"
	"testing"
)

// TestMain closes the engine before exit: its threads must stop before the
// process tears down (the race detector's exit crashed without).
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		_ = shared.Close()
	}
	os.Exit(code)
}
