package queries

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// goalBody is the JSON of PUT /v1/goals. from and to are RFC 3339 or
// YYYY-MM-DD (midnight in tz, default UTC); target is a decimal, as a JSON
// number or string.
type goalBody struct {
	KPI    string          `json:"kpi"`
	Tenant string          `json:"tenant"`
	From   string          `json:"from"`
	To     string          `json:"to"`
	TZ     string          `json:"tz"`
	Target json.RawMessage `json:"target"`
}

// maxGoalBody bounds a PUT /v1/goals body.
const maxGoalBody = 64 << 10

func (h *Handler) setGoal(w http.ResponseWriter, r *http.Request) {
	var b goalBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxGoalBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("goal body: %w", err))
		return
	}
	g, err := b.goal()
	if err == nil {
		err = confineGoal(r.Context(), &g.Tenant)
	}
	if err == nil {
		g, err = h.engine.SetGoal(r.Context(), g)
	}
	var re *RequestError
	switch {
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		h.log.ErrorContext(r.Context(), "set goal failed", "kpi", g.KPI, "error", err)
		writeError(w, http.StatusInternalServerError, errors.New("goal not stored"))
	default:
		writeJSON(w, http.StatusOK, g)
	}
}

// goal reads the body's times in its time zone.
func (b goalBody) goal() (Goal, error) {
	g := Goal{KPI: b.KPI, Tenant: b.Tenant, Target: strings.Trim(string(b.Target), `"`)}
	loc, err := location(b.TZ)
	if err != nil {
		return g, err
	}
	for _, p := range []struct {
		name, text string
		dst        *time.Time
	}{{"from", b.From, &g.From}, {"to", b.To, &g.To}} {
		t, err := ParseTime(p.text, loc)
		if err != nil {
			return g, &RequestError{p.name, err.Error()}
		}
		*p.dst = t
	}
	return g, nil
}

func (h *Handler) listGoals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := GoalFilter{KPI: q.Get("kpi"), Tenant: q.Get("tenant")}
	err := confineGoal(r.Context(), &f.Tenant)
	loc, lerr := location(q.Get("tz"))
	if err == nil {
		err = lerr
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" && err == nil {
			*p.dst, err = ParseTime(v, loc)
			if err != nil {
				err = &RequestError{p.name, err.Error()}
			}
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	goals, err := h.engine.Goals(r.Context(), f)
	if err != nil {
		h.log.ErrorContext(r.Context(), "list goals failed", "error", err)
		writeError(w, http.StatusInternalServerError, errors.New("query failed"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"goals": goals,
		"status_rule": fmt.Sprintf("on_track within ±%d %% of the target; beyond, ahead on "+
			"the better side (higher_is_better) and behind on the other", OnTrackBand)})
}

// confineGoal holds a goal's tenant, or a listing's, to the tenant
// WithTenant put in ctx, if any: a scoped key sees and sets its tenant's
// goals only, never the agency-wide ones.
func confineGoal(ctx context.Context, tenant *string) error {
	t, ok := ctx.Value(tenantKey{}).(string)
	if !ok {
		return nil
	}
	if *tenant != "" && *tenant != t {
		return &RequestError{"tenant", fmt.Sprintf("the API key is scoped to tenant %q", t)}
	}
	*tenant = t
	return nil
}

// location loads an IANA time zone, UTC when empty.
func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, &RequestError{"tz", fmt.Sprintf("unknown time zone %q", tz)}
	}
	return loc, nil
}
