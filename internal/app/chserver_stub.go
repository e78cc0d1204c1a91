//go:build nochserver

package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

func openServer(ctx context.Context, dsn string, log *slog.Logger) (warehouse.Conn, error) {
	return nil, errors.New("stub")
}
