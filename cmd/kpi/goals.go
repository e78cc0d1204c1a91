package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/kpi-analytics/kpi/queries"
)

var goalsCommands = []command{
	{"set", "set the target of a KPI for a tenant and period (replaces an earlier one)", goalsSet},
	{"list", "list goals, filtered by KPI, tenant or period", goalsList},
	{"delete", "delete the goal of a KPI, tenant and period", goalsDelete},
}

func runGoals(ctx context.Context, args []string) error {
	return dispatch(ctx, "goals", goalsCommands, args)
}

// goalFlags are the flags naming a goal: its KPI, tenant and period.
type goalFlags struct {
	kpi, tenant, from, to, tz *string
}

func registerGoal(fs *flag.FlagSet) goalFlags {
	return goalFlags{
		kpi:    fs.String("kpi", "", "KPI name (see kpi query list)"),
		tenant: fs.String("tenant", "", "tenant the goal is for (\"*\": the agency as a whole)"),
		from:   fs.String("from", "", "start of the period (RFC 3339 or YYYY-MM-DD), inclusive"),
		to:     fs.String("to", "", "end of the period, exclusive"),
		tz:     fs.String("tz", "", "time zone of YYYY-MM-DD dates (default UTC)"),
	}
}

func (g goalFlags) body() map[string]string {
	return map[string]string{"kpi": *g.kpi, "tenant": *g.tenant, "from": *g.from, "to": *g.to,
		"tz": *g.tz}
}

func goalsSet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("goals set", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	gf := registerGoal(fs)
	target := fs.String("target", "", "target value, a decimal in the KPI's unit")
	_ = fs.Parse(args)
	body := gf.body()
	body["target"] = *target
	var g queries.Goal
	if err := af.call(ctx, "PUT", "/v1/goals", body, &g); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "goal set: %s for %q from %s to %s: %s\n", g.KPI, g.Tenant,
		g.From.Format(time.RFC3339), g.To.Format(time.RFC3339), g.Target)
	return nil
}

func goalsDelete(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("goals delete", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	gf := registerGoal(fs)
	_ = fs.Parse(args)
	if err := af.call(ctx, "DELETE", "/v1/goals", gf.body(), nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "goal deleted: %s for %q from %s to %s\n", *gf.kpi, *gf.tenant,
		*gf.from, *gf.to)
	return nil
}

func goalsList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("goals list", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	q := url.Values{}
	for _, f := range [][2]string{{"kpi", "only goals of this KPI"},
		{"tenant", "only goals of this tenant"},
		{"from", "only goals ending after this time (RFC 3339 or YYYY-MM-DD)"},
		{"to", "only goals starting before this time"},
		{"tz", "time zone of YYYY-MM-DD dates (default UTC)"}} {
		fs.Func(f[0], f[1], func(v string) error { q.Set(f[0], v); return nil })
	}
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	_ = fs.Parse(args)
	var ans struct {
		Goals []queries.Goal `json:"goals"`
	}
	if err := af.call(ctx, "GET", "/v1/goals?"+q.Encode(), nil, &ans); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ans.Goals)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KPI\tTENANT\tFROM\tTO\tTARGET\tSET AT")
	for _, g := range ans.Goals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.KPI, g.Tenant,
			g.From.Format(time.RFC3339), g.To.Format(time.RFC3339), g.Target,
			g.SetAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
