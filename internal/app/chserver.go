//go:build !nochserver

package app

import (
	"context"
	"log/slog"

	"github.com/kpi-analytics/kpi/internal/warehouse"
	"github.com/kpi-analytics/kpi/internal/warehouse/chserver"
)

func openServer(ctx context.Context, dsn string, log *slog.Logger) (warehouse.Conn, error) {
	return chserver.Open(ctx, chserver.Config{DSN: dsn, Logger: log})
}
