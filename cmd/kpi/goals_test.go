package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/internal/apptest"
)

// captureStdout runs fn with the commands' output going to a buffer.
func captureStdout(t *testing.T, fn func() error) string {
	t.Helper()
	var buf bytes.Buffer
	prev := stdout
	stdout = &buf
	defer func() { stdout = prev }()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestGoalsAndComparisonFromTheCLI: kpi goals set stores a target that
// kpi query then shows, with progress and status, next to the previous
// period when --compare previous is given.
func TestGoalsAndComparisonFromTheCLI(t *testing.T) {
	h := apptest.Start(t)
	// Clicks fall on 1, 2 and 3 May: 6 clicks a day for 18 clicks.
	if code, body := h.Post(apptest.Clicks(18, "0195f5c3-3c2f")); code != 202 {
		t.Fatalf("post: %d %v", code, body)
	}
	h.Idle()
	api := []string{"--url", h.Base, "--data-dir", t.TempDir()}
	ctx := context.Background()
	out := captureStdout(t, func() error {
		return goalsSet(ctx, append(api, "--kpi", "clicks", "--tenant", "acme",
			"--from", "2024-05-02", "--to", "2024-05-03", "--target", "10"))
	})
	if !strings.Contains(out, "goal set: clicks") {
		t.Errorf("goals set printed %q", out)
	}
	out = captureStdout(t, func() error { return goalsList(ctx, append(api, "--kpi", "clicks")) })
	if !strings.Contains(out, "acme") || !strings.Contains(out, "10") {
		t.Errorf("goals list printed %q", out)
	}
	out = captureStdout(t, func() error {
		return runQuery(ctx, append([]string{"clicks"}, append(api, "--from", "2024-05-02",
			"--to", "2024-05-03", "--filter", "tenant=acme", "--compare", "previous")...))
	})
	// 6 clicks against a target of 10: 60 %, behind; 6 the day before too,
	// so no change.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := "6 10.00 60.00 % behind 6 0 0.00 %"
	if len(lines) != 2 || !strings.HasSuffix(strings.Join(strings.Fields(lines[1]), " "), want) ||
		!strings.Contains(lines[0], "target") || !strings.Contains(lines[0], "previous") {
		t.Errorf("query printed\n%s\nwant one row ending %q", out, want)
	}
	out = captureStdout(t, func() error {
		return goalsDelete(ctx, append(api, "--kpi", "clicks", "--tenant", "acme",
			"--from", "2024-05-02", "--to", "2024-05-03"))
	})
	if !strings.Contains(out, "goal deleted: clicks") {
		t.Errorf("goals delete printed %q", out)
	}
	out = captureStdout(t, func() error { return goalsList(ctx, append(api, "--kpi", "clicks")) })
	if strings.Contains(out, "acme") {
		t.Errorf("goals list after delete printed %q", out)
	}
	err := goalsDelete(ctx, append(api, "--kpi", "clicks", "--tenant", "acme",
		"--from", "2024-05-02", "--to", "2024-05-03"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("second delete: %v, want a 404", err)
	}
}
