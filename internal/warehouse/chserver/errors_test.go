package chserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

func TestWrapErrEngineException(t *testing.T) {
	ex := &clickhouse.Exception{Code: 60, Name: "DB::Exception",
		Message: "Table x.y doesn't exist"}
	for _, in := range []error{ex, fmt.Errorf("driver context: %w", ex)} {
		err := wrapErr("query", "SELECT * FROM x.y", in)
		var we *warehouse.Error
		if !errors.As(err, &we) {
			t.Fatalf("errors.As(%v, *warehouse.Error) = false", err)
		}
		if we.Code != 60 || we.Message != ex.Message || we.Query != "SELECT * FROM x.y" {
			t.Errorf("warehouse.Error = %+v, want code 60, the message and the query", we)
		}
		if !warehouse.IsCode(err, warehouse.CodeUnknownTable) {
			t.Errorf("IsCode(%v, 60) = false", err)
		}
		var got *clickhouse.Exception
		if !errors.As(err, &got) || got != ex {
			t.Errorf("errors.As(%v, *clickhouse.Exception) = %v, want the driver's", err, got)
		}
		if want := "chserver query: clickhouse: code 60: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Error() = %q, want prefix %q", err, want)
		}
	}
}

func TestWrapErrOther(t *testing.T) {
	err := wrapErr("exec", "SELECT 1", context.Canceled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	var we *warehouse.Error
	if errors.As(err, &we) {
		t.Errorf("errors.As(%v, *warehouse.Error) = true for a non-engine error", err)
	}
	if got, want := err.Error(), "chserver exec: context canceled"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"dsn", Config{DSN: "clickhouse://127.0.0.1:9000"}, true},
		{"no dsn", Config{}, false},
		{"negative slow query", Config{DSN: "clickhouse://127.0.0.1:9000", SlowQuery: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		msg  string
	}{
		{"bad dsn", "clickhouse://", "parse dsn"},
		{"http protocol", "http://127.0.0.1:1", "native protocol"},
		// Port 1 on loopback refuses at once: nothing leaves the machine.
		{"nothing listening", "clickhouse://127.0.0.1:1/default?dial_timeout=1s", "chserver ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(context.Background(), Config{DSN: tt.dsn})
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q) succeeded, want error", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open(%q) = %v, want error containing %q", tt.dsn, err, tt.msg)
			}
		})
	}
}

func TestOpenDoesNotLeakPassword(t *testing.T) {
	_, err := Open(context.Background(), Config{DSN: "clickhouse://u:s3cret@127.0.0.1:1/%zz"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open error = %v, want an error without the password", err)
	}
}
