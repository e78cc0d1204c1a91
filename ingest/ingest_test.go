package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/ingest"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/broker/brokertest"
)

// newServer runs the handler over a real embedded JetStream.
func newServer(t *testing.T, mutate func(*ingest.Config)) (*httptest.Server, *server.Server, jetstream.JetStream) {
	t.Helper()
	ns, js := brokertest.Start(t)
	cfg := ingest.Config{JetStream: js, AckTimeout: time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := ingest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, ns, js
}

func post(t *testing.T, url, body string) (*http.Response, ingest.Response) {
	t.Helper()
	resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out ingest.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp, out
}

const click = `{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`

func stored(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), broker.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func withID(n int) string {
	return strings.Replace(click, `{`, fmt.Sprintf(`{"id":"0195f5c3-2b1e-7a1e-9f00-%012d",`, n), 1)
}

// TestResendIsDroppedByTheBroker: the events of one tenant and type share a
// message whose id digests their tenant, type, ids and times, so resending the request stores
// nothing new. (A repeat in another composition is the projector's to drop.)
func TestResendIsDroppedByTheBroker(t *testing.T) {
	srv, _, js := newServer(t, nil)
	body := `[` + withID(1) + `,` + withID(2) + `]`
	resp, out := post(t, srv.URL, body)
	if resp.StatusCode != http.StatusAccepted || out.Accepted != 2 || len(out.IDs) != 2 {
		t.Fatalf("status %d, answer %+v", resp.StatusCode, out)
	}
	_, out = post(t, srv.URL, body)
	if out.Duplicates != 2 {
		t.Errorf("resend duplicates = %d, want 2", out.Duplicates)
	}
	post(t, srv.URL, click+"\n"+click)
	if got := stored(t, js); got != 2 {
		t.Errorf("stream holds %d messages, want 2", got)
	}
}

func TestEventsArePackedPerTenantAndType(t *testing.T) {
	srv, _, js := newServer(t, nil)
	other := strings.Replace(click, `"tenant":"acme"`, `"tenant":"beta"`, 1)
	lines := []string{click, other, click, strings.Replace(click, `"click"`, `"impression"`, 1)}
	if resp, out := post(t, srv.URL, strings.Join(lines, "\n")); out.Accepted != 4 {
		t.Fatalf("status %d, answer %+v", resp.StatusCode, out)
	}
	s, err := js.Stream(context.Background(), broker.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), broker.EventSubject("acme", "click"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(m.Data), "\n"); n != 2 {
		t.Errorf("acme click message holds %d events, want 2", n)
	}
	if got := stored(t, js); got != 3 {
		t.Errorf("stream holds %d messages, want 3 (acme click, beta click, acme impression)", got)
	}
}

func TestLimits(t *testing.T) {
	srv, _, js := newServer(t, func(c *ingest.Config) { c.MaxBodyBytes, c.MaxEvents = 4096, 3 })
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"body too large", strings.Repeat(click+"\n", 40), http.StatusRequestEntityTooLarge},
		{"too many events", strings.Repeat(click+"\n", 4), http.StatusRequestEntityTooLarge},
		{"empty body", "", http.StatusBadRequest},
		{"all invalid", `{"type":"click"}`, http.StatusBadRequest},
		{"broken array", `[{"type":`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := post(t, srv.URL, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (%+v)", resp.StatusCode, tt.status, out)
			}
			if out.Error == "" {
				t.Error("answer has no error text")
			}
		})
	}
	if got := stored(t, js); got != 0 {
		t.Errorf("stream holds %d messages after refused requests, want 0", got)
	}
}

func TestRejectionsNameIndexAndField(t *testing.T) {
	srv, _, _ := newServer(t, nil)
	body := strings.Join([]string{click,
		`{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c","count":"3"}`,
		`{"type":"cost","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c","amount":"1.5"}`,
		`{"type":"click","tenant":"a.b","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`,
	}, "\n")
	resp, out := post(t, srv.URL, body)
	if resp.StatusCode != http.StatusAccepted || out.Accepted != 1 {
		t.Fatalf("status %d, answer %+v", resp.StatusCode, out)
	}
	want := []string{"1:count", "2:currency", "3:tenant"}
	var got []string
	for _, r := range out.Rejected {
		got = append(got, fmt.Sprintf("%d:%s", r.Index, r.Field))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rejections = %v, want %v", got, want)
	}
}

func TestBrokerDownAnswers503(t *testing.T) {
	srv, ns, _ := newServer(t, nil)
	ns.Shutdown()
	ns.WaitForShutdown()
	resp, out := post(t, srv.URL, click)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503 (%+v)", resp.StatusCode, out)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if out.Accepted != 0 || len(out.IDs) != 1 || out.IDs[0] == nil {
		t.Errorf("answer = %+v, want 0 accepted and the assigned id", out)
	}
}

// TestSameIDsFromAnotherTenantAreNotRepeats: the message id covers tenant,
// type and time, so another tenant (or type) sending the same event ids is
// stored, and the answer tells nothing about the other tenant's events.
func TestSameIDsFromAnotherTenantAreNotRepeats(t *testing.T) {
	srv, _, js := newServer(t, nil)
	body := withID(1)
	if _, out := post(t, srv.URL, body); out.Accepted != 1 || out.Duplicates != 0 {
		t.Fatalf("first: %+v", out)
	}
	for _, other := range []string{
		strings.Replace(body, `"tenant":"acme"`, `"tenant":"beta"`, 1),
		strings.Replace(body, `"click"`, `"impression"`, 1),
		strings.Replace(body, `2024-05-01T10:00:00Z`, `2024-05-01T11:00:00Z`, 1),
	} {
		if other == body {
			t.Fatalf("test body did not change: %s", body)
		}
		if _, out := post(t, srv.URL, other); out.Accepted != 1 || out.Duplicates != 0 {
			t.Errorf("%s: %+v, want stored, not a repeat", other, out)
		}
	}
	if got := stored(t, js); got != 4 {
		t.Errorf("stream holds %d messages, want 4", got)
	}
}

// TestGzipBodies: a gzip body is read like a plain one; other encodings are
// 415, and a body over the limit once decompressed is 413.
func TestGzipBodies(t *testing.T) {
	srv, _, _ := newServer(t, nil)
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.Bytes()
	}
	send := func(body []byte, enc string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Encoding", enc)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(gz(click+"\n"+click), "gzip"); code != http.StatusAccepted {
		t.Errorf("gzip: %d, want 202", code)
	}
	if code := send([]byte(click), "br"); code != http.StatusUnsupportedMediaType {
		t.Errorf("br: %d, want 415", code)
	}
	if code := send([]byte(click), "gzip"); code != http.StatusBadRequest {
		t.Errorf("plain text labelled gzip: %d, want 400", code)
	}
	bomb := gz(strings.Repeat(" ", 17<<20)) // 17 MiB of spaces, a few KiB compressed
	if code := send(bomb, "gzip"); code != http.StatusRequestEntityTooLarge {
		t.Errorf("bomb: %d, want 413", code)
	}
}
