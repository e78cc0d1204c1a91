package chserver

import (
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// ErrParamsUnsupported is returned by Exec and Query when the statement has
// Params but the server predates server-side query parameters over the
// native protocol (protocol revision 54459). Without this check such a
// server would answer with a syntax error at the first {name:Type}.
var ErrParamsUnsupported = errors.New("chserver: server does not support query parameters")

// engineError is an exception raised by the ClickHouse server. It unwraps to
// both the *warehouse.Error callers branch on and the driver's error chain,
// so errors.As finds the *clickhouse.Exception as well.
type engineError struct {
	op    string
	we    *warehouse.Error
	cause error
}

func (e *engineError) Error() string   { return "chserver " + e.op + ": " + e.we.Error() }
func (e *engineError) Unwrap() []error { return []error{e.we, e.cause} }

// wrapErr names the failed operation. A server exception becomes a
// *warehouse.Error carrying its code; anything else (network, context,
// driver) is wrapped as it is.
func wrapErr(op, query string, err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		we := &warehouse.Error{Code: ex.Code, Message: ex.Message, Query: warehouse.Clip(query)}
		return &engineError{op: op, we: we, cause: err}
	}
	return fmt.Errorf("chserver %s: %w", op, err)
}
