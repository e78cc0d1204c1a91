package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
)

// runReplay rebuilds the projections from the stream. With the embedded
// default the server must be stopped: it owns the data directory.
func runReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	var sf serverFlags
	sf.register(fs)
	_ = fs.Parse(args)
	sf.cfg.Logger = newLogger(sf.logLevel)
	sf.cfg.Project = true
	a, err := app.New(ctx, sf.cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetDescription("replaying"),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
	start := time.Now()
	err = a.Projector.Replay(ctx, func(done, total uint64) {
		bar.ChangeMax64(int64(total))
		_ = bar.Set64(int64(done))
	})
	_ = bar.Finish()
	if err != nil {
		return err
	}
	st := a.Projector.Stats()
	fmt.Fprintf(os.Stderr, "\nreplayed %d events (%d dead-lettered) in %s\n",
		st.Projected, st.DeadLettered, time.Since(start).Round(time.Millisecond))
	return nil
}

func runVersion(_ context.Context, _ []string) error {
	fmt.Println("kpi", version)
	v, err := chdb.Version()
	if err != nil {
		fmt.Println("embedded ClickHouse: not installed:", err)
		return nil
	}
	fmt.Println("embedded ClickHouse (libchdb):", v, "from", chdb.LibraryPath())
	return nil
}

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"
