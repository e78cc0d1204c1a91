package queries

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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
	g, status, err := readGoal(w, r)
	if err == nil {
		g, err = h.engine.SetGoal(r.Context(), g)
		status = goalStatus(err)
	}
	if status == http.StatusInternalServerError {
		h.log.ErrorContext(r.Context(), "set goal failed", "kpi", g.KPI, "error", err)
		err = errors.New("goal not stored")
	}
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func (h *Handler) deleteGoal(w http.ResponseWriter, r *http.Request) {
	g, status, err := readGoal(w, r)
	var found bool
	if err == nil {
		g, found, err = h.engine.DeleteGoal(r.Context(), g)
		status = goalStatus(err)
	}
	if status == http.StatusInternalServerError {
		h.log.ErrorContext(r.Context(), "delete goal failed", "kpi", g.KPI, "error", err)
		err = errors.New("goal not deleted")
	}
	switch {
	case err != nil:
		writeError(w, status, err)
	case !found:
		writeError(w, http.StatusNotFound, errors.New("no goal for this kpi, tenant and period"))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"deleted": g})
	}
}

// goalStatus is the HTTP status for an error of SetGoal or DeleteGoal.
func goalStatus(err error) int {
	var re *RequestError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &re):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// readGoal decodes a goal body, held to the tenant of a scoped key (403
// when it names another).
func readGoal(w http.ResponseWriter, r *http.Request) (Goal, int, error) {
	var b goalBody
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGoalBody))
	if err == nil {
		err = exactKeys(raw)
	}
	if err != nil {
		return Goal{}, http.StatusBadRequest, &RequestError{"body", err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Goal{}, http.StatusBadRequest, &RequestError{"body", "want one JSON object " +
			"with kpi, tenant, from, to, tz and target: " + jsonProblem(err)}
	}
	if dec.More() {
		return Goal{}, http.StatusBadRequest, &RequestError{"body", "data after the JSON object"}
	}
	g, err := b.goal()
	if err != nil {
		return g, http.StatusBadRequest, err
	}
	if err := confineGoal(r.Context(), &g.Tenant); err != nil {
		return g, http.StatusForbidden, err
	}
	return g, http.StatusOK, nil
}

// exactKeys refuses an object whose keys repeat or differ in case from
// goalBody's: encoding/json would take the last of two "tenant" keys, or
// "Tenant" for "tenant", and a goal could land where its sender did not
// look. Anything else is left to the decoder.
func exactKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if seen[k] {
			return fmt.Errorf("field %s given twice", k)
		}
		seen[k] = true
		if !slices.Contains([]string{"kpi", "tenant", "from", "to", "tz", "target"}, k) {
			return fmt.Errorf("unknown field %q (fields are kpi, tenant, from, to, tz, target)", k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// jsonProblem says what is wrong with a body in the client's terms, not in
// the decoder's (which names Go types).
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("field %s has the wrong type (%s)", te.Field, te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("got a JSON %s", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return err.Error()
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
	if err := confineGoal(r.Context(), &f.Tenant); err != nil {
		writeError(w, http.StatusForbidden, err)
		return
	}
	loc, err := location(q.Get("tz"))
	if _, ok := Lookup(f.KPI); err == nil && f.KPI != "" && !ok {
		err = &RequestError{"kpi", fmt.Sprintf("unknown KPI %q; GET /v1/kpis lists them", f.KPI)}
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

// location loads an IANA time zone, UTC when empty. "Local", the server's
// own zone, is refused: a request must not depend on where it is served.
func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, &RequestError{"tz", fmt.Sprintf("unknown time zone %q", tz)}
	}
	return loc, nil
}
