package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
)

// These tests run the real kpi binary as a child process, so that it can be
// killed outright, and drive it over HTTP on loopback.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func kpiBinary(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chdb.LibraryPath()); err != nil {
		t.Skipf("embedded ClickHouse missing (run `make libchdb`): %v", err)
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kpi-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kpi")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is one kpi serve process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

func startServer(t *testing.T, dataDir string, port int, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--no-auth", "--data-dir", dataDir, "--ack-wait", "3s",
		"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}, extra...)
	cmd := exec.Command(kpiBinary(t), args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: &log}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kpi serve not ready after 60s:\n%s", log.String())
	return nil
}

// stop asks for a graceful shutdown (SIGTERM) and waits for it.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		s.t.Fatalf("kpi serve exited with %v:\n%s", err, s.log.String())
	}
}

// kill sends SIGKILL: no shutdown code runs.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// metric reads one unlabelled value from /metrics.
func (s *server) metric(name string) (float64, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// waitIdle waits until the projector has acknowledged everything.
func (s *server) waitIdle() {
	s.t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if lag, err := s.metric("kpi_consumer_lag_messages"); err == nil && lag == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("projector still lagging after 120s:\n%s", s.log.String())
}

// clicks is the exact click total of tenant prefix t over all time.
func (s *server) clicks() int64 {
	s.t.Helper()
	resp, err := http.Get(s.base + "/v1/kpis/clicks?from=2000-01-01&to=2030-01-01")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Rows []struct{ Exact string } `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || len(ans.Rows) != 1 {
		s.t.Fatalf("clicks: %v (%d rows)", err, len(ans.Rows))
	}
	n, _ := strconv.ParseInt(ans.Rows[0].Exact, 10, 64)
	return n
}

// post sends a body and returns the status and Retry-After header.
func post(base string, body []byte) (int, string, error) {
	resp, err := http.Post(base+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := broker.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSIGKILLMidProjectionThenRestart kills the process while the projector
// is writing and checks, after a restart on the same data directory, that
// every accepted event is counted exactly once.
func TestSIGKILLMidProjectionThenRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kpi binary")
	}
	dir := t.TempDir()
	port := freePort(t)
	s := startServer(t, dir, port)
	const total = 150000
	for i := 0; i < total; i += 5000 {
		status, _, err := post(s.base, benchBody(i, 5000, "kill", ""))
		if err != nil || status != http.StatusAccepted {
			t.Fatalf("post at %d: %d %v", i, status, err)
		}
	}
	lag, _ := s.metric("kpi_consumer_lag_messages")
	s.kill()
	t.Logf("killed with %v messages not yet acknowledged", lag)

	s = startServer(t, dir, port)
	s.waitIdle()
	if got := s.clicks(); got != total {
		t.Fatalf("clicks after SIGKILL and restart = %d, want %d", got, total)
	}

	// The same batch sent twice more, then a full replay after all of it.
	for range 2 {
		if status, _, err := post(s.base, benchBody(0, 5000, "kill", "")); err != nil ||
			status != http.StatusAccepted {
			t.Fatalf("resend: %d %v", status, err)
		}
	}
	s.waitIdle()
	if got := s.clicks(); got != total {
		t.Fatalf("clicks after resending a batch = %d, want %d", got, total)
	}
	s.stop()
	out, err := exec.Command(kpiBinary(t), "replay", "--data-dir", dir, "--log-level", "warn").
		CombinedOutput()
	if err != nil {
		t.Fatalf("kpi replay: %v\n%s", err, out)
	}
	s = startServer(t, dir, port)
	if got := s.clicks(); got != total {
		t.Fatalf("clicks after kpi replay = %d, want %d", got, total)
	}
}

// TestNATSRestartWhileProducing stops the NATS server under a producer that
// keeps sending: it must get 503 with Retry-After while NATS is down, never
// a 202 for an event that was not stored, and after NATS returns every
// event it resent counts once.
func TestNATSRestartWhileProducing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kpi binary")
	}
	natsPort, storeDir := freePort(t), t.TempDir()
	startNATS := func() func() {
		ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: storeDir, Port: natsPort})
		if err != nil {
			t.Fatal(err)
		}
		return func() { ns.Shutdown(); ns.WaitForShutdown() }
	}
	stopNATS := startNATS()
	s := startServer(t, t.TempDir(), freePort(t),
		"--nats-url", fmt.Sprintf("nats://127.0.0.1:%d", natsPort))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan produced, 1)
	go func() { done <- produce(ctx, s.base) }()

	time.Sleep(time.Second)
	stopNATS()
	time.Sleep(time.Second)
	if resp, err := http.Get(s.base + "/readyz"); err != nil {
		t.Error(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while NATS is down = %d, want 503", resp.StatusCode)
	}
	time.Sleep(time.Second)
	stopNATS = startNATS()
	defer stopNATS()
	time.Sleep(2 * time.Second)
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.unavailable == 0 {
		t.Error("no 503 while NATS was down")
	}
	s.waitIdle()
	if got := s.clicks(); got != int64(r.sent) {
		t.Fatalf("clicks = %d, want %d accepted (%d answers were 503)", got, r.sent, r.unavailable)
	}
}

// produced is what a producer saw.
type produced struct {
	sent, unavailable int
	err               error
}

// produce posts batches of 100 events until ctx ends, resending a batch
// (same ids) after each 503 as a well-behaved producer would, so that every
// batch it started ends accepted.
func produce(ctx context.Context, base string) (r produced) {
	for i := 0; ctx.Err() == nil; i += 100 {
		body := benchBody(i, 100, "nats", "")
		for {
			status, retryAfter, err := post(base, body)
			if err != nil {
				r.err = err
				return r
			}
			if status == http.StatusAccepted {
				r.sent += 100
				break
			}
			if status != http.StatusServiceUnavailable || retryAfter == "" {
				r.err = fmt.Errorf("batch %d: status %d, Retry-After %q", i, status, retryAfter)
				return r
			}
			r.unavailable++
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}
