package ingest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/ingest"
	"github.com/kpi-analytics/kpi/internal/broker"
	"github.com/kpi-analytics/kpi/internal/broker/brokertest"
)

// tenantScopedHandler is an ingest handler over a real embedded JetStream.
func tenantScopedHandler(t *testing.T) (*ingest.Handler, jetstream.JetStream) {
	t.Helper()
	_, js := brokertest.Start(t)
	h, err := ingest.New(ingest.Config{JetStream: js})
	if err != nil {
		t.Fatal(err)
	}
	return h, js
}

// storedSubjects counts the stream's messages per subject under filter.
func storedSubjects(t *testing.T, js jetstream.JetStream, filter string) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, broker.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects
}

func TestWithTenantConfinesEvents(t *testing.T) {
	h, js := tenantScopedHandler(t)
	const at = `"occurred_at":"2024-05-01T10:00:00Z","campaign":"c"`
	tests := []struct {
		name       string
		event      string
		wantField  string // "" when accepted
		wantReason string // a part of the reason
	}{
		{"no tenant gets the key's", `{"type":"click",` + at + `}`, "", ""},
		{"the key's tenant", `{"type":"click","tenant":"acme",` + at + `}`, "", ""},
		// null and "" count as absent, like a missing tenant.
		{"null tenant gets the key's", `{"tenant":null,"type":"click",` + at + `}`, "", ""},
		{"empty tenant gets the key's", `{"tenant":"","type":"click",` + at + `}`, "", ""},
		{"another tenant", `{"type":"click","tenant":"beta",` + at + `}`, "tenant",
			`scoped to tenant "acme"`},
		{"an invalid tenant", `{"type":"click","tenant":"a.b",` + at + `}`, "tenant", ""},
		{"no tenant, bad count", `{"type":"click","count":-1,` + at + `}`, "count", ""},
		{"no tenant, no type", `{` + at + `}`, "type", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ingest.WithTenant(context.Background(), "acme")
			status, resp := h.Ingest(ctx, []byte(tc.event))
			if tc.wantField == "" {
				if status != http.StatusAccepted || resp.Accepted != 1 {
					t.Fatalf("status %d, %+v; want 202 and 1 accepted", status, resp)
				}
				return
			}
			if status != http.StatusBadRequest || len(resp.Rejected) != 1 {
				t.Fatalf("status %d, %+v; want 400 and 1 rejected", status, resp)
			}
			got := resp.Rejected[0]
			if got.Field != tc.wantField || !strings.Contains(got.Reason, tc.wantReason) {
				t.Errorf("rejected %+v, want field %q and a reason with %q", got, tc.wantField,
					tc.wantReason)
			}
		})
	}
	if got := storedSubjects(t, js, "kpi.events.beta.>"); len(got) != 0 {
		t.Errorf("stored for tenant beta: %v, want nothing", got)
	}
	if got := storedSubjects(t, js, "kpi.events.acme.>"); len(got) != 1 {
		t.Errorf("stored for tenant acme: %v, want the click subject", got)
	}
}

func TestWithTenantRejectsOnlyTheForeignEvents(t *testing.T) {
	h, js := tenantScopedHandler(t)
	body := strings.Join([]string{
		`{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`,
		`{"type":"click","tenant":"beta","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`,
		`{"type":"impression","occurred_at":"2024-05-01T10:00:00Z","campaign":"c","count":10}`,
	}, "\n")
	status, resp := h.Ingest(ingest.WithTenant(context.Background(), "acme"), []byte(body))
	if status != http.StatusAccepted || resp.Accepted != 2 || len(resp.Rejected) != 1 {
		t.Fatalf("status %d, %+v; want 202, 2 accepted, 1 rejected", status, resp)
	}
	if got := resp.Rejected[0]; got.Index != 1 || got.Field != "tenant" {
		t.Errorf("rejected %+v, want index 1 field tenant", got)
	}
	if got := storedSubjects(t, js, "kpi.events.beta.>"); len(got) != 0 {
		t.Errorf("stored for tenant beta: %v, want nothing", got)
	}

	// Without a scope nothing changes: any tenant goes, none is filled in.
	status, resp = h.Ingest(context.Background(), []byte(
		`{"type":"click","tenant":"beta","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`+"\n"+
			`{"type":"click","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`))
	if status != http.StatusAccepted || resp.Accepted != 1 || len(resp.Rejected) != 1 ||
		resp.Rejected[0].Field != "tenant" {
		t.Errorf("unscoped: status %d, %+v; want beta accepted, the tenant-less one rejected",
			status, resp)
	}
}
