package queries

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Handler serves the query API:
//
//	GET /v1/kpis          the catalogue, with formulas and units
//	GET /v1/kpis/{name}   one KPI; JSON, or CSV with Accept: text/csv or format=csv
//	PUT /v1/goals         set a goal (see Goal); GET lists them, DELETE removes one
type Handler struct {
	engine *Engine
	log    *slog.Logger
	mux    *http.ServeMux
}

// NewHandler wires the query API to an engine.
func NewHandler(e *Engine, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{engine: e, log: log.With("component", "queries"), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /v1/kpis", h.catalogue)
	h.mux.HandleFunc("GET /v1/kpis/{name}", h.kpi)
	h.mux.HandleFunc("PUT /v1/goals", h.setGoal)
	h.mux.HandleFunc("GET /v1/goals", h.listGoals)
	h.mux.HandleFunc("DELETE /v1/goals", h.deleteGoal)
	return h
}

// ServeHTTP implements http.Handler. A query string that does not parse is
// refused whole: net/url drops the bad pairs, which would silently drop a
// filter and answer for more than was asked.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, &RequestError{"query", "malformed query string: " +
			err.Error()})
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) catalogue(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"kpis": Catalogue(),
		"windows": windows, "units": unitMeanings, "rates": RatesSource,
		"null": "a ratio whose denominator is zero has value null"})
}

func (h *Handler) kpi(w http.ResponseWriter, r *http.Request) {
	if f := r.URL.Query().Get("format"); f != "" && f != "json" && f != "csv" {
		writeError(w, http.StatusBadRequest, &RequestError{"format", `must be "json" or "csv"`})
		return
	}
	req, err := ParseRequest(r.PathValue("name"), r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := confine(r.Context(), &req); err != nil {
		writeError(w, http.StatusForbidden, err)
		return
	}
	ans, err := h.engine.Run(r.Context(), req)
	var re *RequestError
	switch {
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, err)
		return
	case errors.Is(err, ErrMixedCurrencies), errors.Is(err, ErrNoRate):
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	case err != nil:
		h.log.ErrorContext(r.Context(), "kpi query failed", "kpi", req.KPI, "error", err)
		writeError(w, http.StatusInternalServerError, errors.New("query failed"))
		return
	}
	if wantsCSV(r) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_ = WriteCSV(w, ans)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

type tenantKey struct{}

// WithTenant confines the queries made with ctx to one tenant, the one an API
// key is scoped to: every KPI is filtered to it, so grouping by tenant shows
// it alone, and asking to filter by another tenant is refused.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// confine applies the tenant WithTenant put in ctx, if any, to req.
func confine(ctx context.Context, req *Request) error {
	t, ok := ctx.Value(tenantKey{}).(string)
	if !ok {
		return nil
	}
	if f, set := req.Filters[DimTenant]; set && f != t {
		return fmt.Errorf("tenant %q: the API key is scoped to tenant %q", f, t)
	}
	req.Filters[DimTenant] = t
	return nil
}

// ParseRequest reads a KPI request from query parameters: from, to,
// window, group_by (comma-separated), tz, compare, convert_to, and one
// filter per dimension.
func ParseRequest(name string, q url.Values) (Request, error) {
	req := Request{KPI: name, Window: Window(q.Get("window")), Filters: map[string]string{}}
	for _, k := range sortedKeys(q) {
		if len(q[k]) > 1 {
			// Taking the first of two windows or zones would answer a
			// question the caller did not ask.
			return req, &RequestError{k, "give it once"}
		}
	}
	loc, err := location(q.Get("tz"))
	if err != nil {
		return req, err
	}
	req.Location = loc
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &req.From}, {"to", &req.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := ParseTime(v, loc)
			if err == nil && (t.Before(Earliest) || t.After(Latest)) {
				err = fmt.Errorf("must lie between %s and %s", Earliest.Format(time.DateOnly),
					Latest.Format(time.DateOnly))
			}
			if err != nil {
				return req, &RequestError{p.name, err.Error()}
			}
			*p.dst = t
		}
	}
	if g := q.Get("group_by"); g != "" {
		req.GroupBy = strings.Split(g, ",")
	}
	req.Compare, req.ConvertTo = q.Get("compare"), q.Get("convert_to")
	known := map[string]bool{"from": true, "to": true, "window": true, "group_by": true,
		"tz": true, "format": true, "compare": true, "convert_to": true}
	for k, v := range q {
		if known[k] {
			continue
		}
		req.Filters[k] = v[0]
	}
	return req, nil
}

func wantsCSV(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "csv"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// WriteCSV writes an answer as CSV, one row per window and group. Goal
// columns follow when a row has a goal, and previous-period columns when
// the request asked for a comparison.
func WriteCSV(w io.Writer, ans *Answer) error {
	cw := csv.NewWriter(w)
	head := append([]string{"window_start", "window_end"}, ans.GroupBy...)
	head = append(head, "currency", ans.KPI.Name, "exact")
	goals := slices.ContainsFunc(ans.Rows, func(r Row) bool { return r.Goal != nil })
	if goals {
		head = append(head, "target", "progress_percent", "status")
	}
	if ans.Compare != nil {
		head = append(head, "previous", "change", "change_percent")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range ans.Rows {
		rec := []string{r.WindowStart.Format(time.RFC3339), r.WindowEnd.Format(time.RFC3339)}
		for _, d := range ans.GroupBy {
			rec = append(rec, csvText(r.Group[d]))
		}
		rec = append(rec, r.Currency, formatFloat(r.Value), r.Exact)
		if goals {
			rec = append(rec, goalFields(r.Goal)...)
		}
		if ans.Compare != nil {
			rec = append(rec, changeFields(r.Previous)...)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText defuses a text value that a spreadsheet would run as a formula
// (starting with =, +, -, @, tab or carriage return) by prefixing a quote,
// as OWASP advises for CSV exports; dimension values come from producers.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func formatFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func goalFields(g *GoalStatus) []string {
	if g == nil {
		return []string{"", "", ""}
	}
	return []string{g.Target, formatFloat(g.Progress), g.Status}
}

func changeFields(c *Change) []string {
	if c == nil {
		return []string{"", "", ""}
	}
	return []string{formatFloat(c.Value), formatFloat(c.Change), formatFloat(c.ChangePercent)}
}

func writeError(w http.ResponseWriter, status int, err error) {
	body := map[string]string{"error": err.Error()}
	var re *RequestError
	if errors.As(err, &re) {
		body["param"], body["reason"] = re.Param, re.Reason
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
