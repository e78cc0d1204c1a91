package queries

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// Engine answers KPI requests from the warehouse.
type Engine struct {
	wh warehouse.Conn
	db string
	// unbucketed makes every source read occurred_at, as it does for a
	// request off the half hour; tests compare the two paths.
	unbucketed bool
}

// NewEngine returns an Engine reading the tables of database db.
func NewEngine(wh warehouse.Conn, db string) *Engine { return &Engine{wh: wh, db: db} }

// Answer is a KPI computed over every window and group of a request.
type Answer struct {
	KPI      KPI       `json:"kpi"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Window   Window    `json:"window"`
	TimeZone string    `json:"tz"`
	GroupBy  []string  `json:"group_by"`
	// ConvertTo is the currency amounts were converted to, and Rates the
	// rates used; both empty when amounts stay in their own currency.
	ConvertTo string `json:"convert_to,omitempty"`
	Rates     string `json:"rates,omitempty"`
	// Compare is the period the rows' Previous values come from.
	Compare *Period `json:"compare,omitempty"`
	Rows    []Row   `json:"rows"`
}

// Row is the KPI for one window and group.
type Row struct {
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	Group       map[string]string `json:"group,omitempty"`
	Currency    string            `json:"currency,omitempty"`
	value
	// Goal is the row's target and how the value stands against it; nil
	// when no goal is set for the row's KPI, tenant and window.
	Goal *GoalStatus `json:"goal,omitempty"`
	// Previous is the same KPI over the previous period, with the change;
	// nil unless the request asked for a comparison.
	Previous *Change `json:"previous,omitempty"`

	window int    // index of the window in the request
	key    string // the group's dimension values
}

// Errors of Run besides a *RequestError.
var (
	// ErrMixedCurrencies is returned for a KPI computed from amounts in
	// more than one currency.
	ErrMixedCurrencies = errors.New("amounts in several currencies; " +
		"convert them with convert_to, or filter or group by currency")
	// ErrNoRate is returned when convert_to meets a currency the rate
	// table lacks.
	ErrNoRate = errors.New("no exchange rate")
)

// Run computes the KPI of req. It returns a *RequestError for a request
// that does not fit the KPI, [ErrMixedCurrencies] or [ErrNoRate] (wrapped)
// for amounts it cannot add up, and other errors from the warehouse.
func (e *Engine) Run(ctx context.Context, req Request) (*Answer, error) {
	k, err := req.Validate()
	if err != nil {
		return nil, err
	}
	ans, err := e.answer(ctx, k, req)
	if err != nil {
		return nil, fmt.Errorf("kpi %s: %w", k.Name, err)
	}
	if req.Compare == ComparePrevious {
		if err := e.comparePrevious(ctx, k, req, ans); err != nil {
			return nil, fmt.Errorf("kpi %s: previous period: %w", k.Name, err)
		}
	}
	if err := e.attachGoals(ctx, k, req, ans); err != nil {
		return nil, fmt.Errorf("kpi %s: goals: %w", k.Name, err)
	}
	return ans, nil
}

// answer runs the KPI's sources and computes every window and group.
func (e *Engine) answer(ctx context.Context, k KPI, req Request) (*Answer, error) {
	bounds := req.Bounds()
	q := &query{e: e, req: req, bounds: bounds, acc: newAccumulator(req, bounds),
		inMoney: k.usesMoney()}
	ans := &Answer{KPI: k, From: req.From, To: req.To, Window: req.Window,
		TimeZone: req.Location.String(), GroupBy: req.GroupBy, Rows: []Row{}}
	if req.ConvertTo != "" {
		q.fx = newConverter(req.ConvertTo)
		ans.ConvertTo, ans.Rates = req.ConvertTo, RatesSource
	}
	for _, s := range k.sources {
		if err := s.run(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	for _, g := range q.acc.list() {
		cur := ""
		if k.usesMoney() {
			if len(g.currencies) > 1 {
				return nil, fmt.Errorf("%w (%s)", ErrMixedCurrencies,
					strings.Join(keys(g.currencies), ", "))
			}
			// Grouped by currency, the events without an amount (clicks,
			// impressions) make a group of their own that holds no money.
			if c, ok := g.dims[DimCurrency]; ok && c == "" {
				continue
			}
			cur = strings.Join(keys(g.currencies), ",")
		}
		ans.Rows = append(ans.Rows, Row{WindowStart: bounds[g.window].In(req.Location),
			WindowEnd: bounds[g.window+1].In(req.Location), Group: g.dims, Currency: cur,
			value: k.compute(&g.m), window: g.window, key: g.key})
	}
	return ans, nil
}

// group accumulates the measures of one window and dimension tuple.
type group struct {
	window     int
	dims       map[string]string
	key        string
	currencies map[string]bool
	m          measures
}

// windowIndex finds the window holding unix time ws; times before the first
// bound (window starts floored before From) belong to the first window.
func windowIndex(bounds []time.Time, ws int64) int {
	t := time.Unix(ws, 0)
	i := sort.Search(len(bounds), func(i int) bool { return bounds[i].After(t) }) - 1
	return min(max(i, 0), len(bounds)-2)
}

// accumulator collects groups in window then dimension order.
type accumulator struct {
	req    Request
	bounds []time.Time
	byKey  map[string]*group
}

func newAccumulator(req Request, bounds []time.Time) *accumulator {
	a := &accumulator{req: req, bounds: bounds, byKey: map[string]*group{}}
	if len(req.GroupBy) == 0 {
		for w := 0; w < len(bounds)-1; w++ {
			a.group(w, nil)
		}
	}
	return a
}

// group returns the group of window w and the given dimension values, in
// the order of the request's GroupBy, creating it if needed.
func (a *accumulator) group(w int, dimVals []any) *group {
	var dims map[string]string
	if len(a.req.GroupBy) > 0 {
		dims = make(map[string]string, len(a.req.GroupBy))
	}
	var kb strings.Builder
	for i, d := range a.req.GroupBy {
		s, _ := dimVals[i].(string)
		dims[d] = s
		kb.WriteString("\x00" + s)
	}
	k := fmt.Sprintf("%08d", w) + kb.String()
	g, ok := a.byKey[k]
	if !ok {
		g = &group{window: w, dims: dims, key: kb.String(), currencies: map[string]bool{}}
		a.byKey[k] = g
	}
	return g
}

func (a *accumulator) list() []*group {
	out := make([]*group, 0, len(a.byKey))
	for _, g := range a.byKey {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].window != out[j].window {
			return out[i].window < out[j].window
		}
		return out[i].key < out[j].key
	})
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
