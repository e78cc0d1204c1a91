package examples_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/examples/convert"
	"github.com/kpi-analytics/kpi/internal/apptest"
)

// chunkLines is how many NDJSON lines one POST /v1/events carries.
const chunkLines = 5000

// convertDataset converts the dataset file name with conv and returns the
// NDJSON. It skips the test when the file is missing and fails it when a
// row is malformed.
func convertDataset(t *testing.T, name string, conv convert.Func) []byte {
	t.Helper()
	path, err := convert.Dataset(name)
	if errors.Is(err, convert.ErrNoDataset) {
		t.Skip(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	st, err := conv(f, &out, func(e *convert.RowError) { t.Errorf("%s: %v", name, e) })
	if err != nil {
		t.Fatalf("convert %s: %v", name, err)
	}
	t.Logf("%s: %+v", name, st)
	return out.Bytes()
}

// importNDJSON posts body in chunks of lines NDJSON lines, requires every
// event to be accepted, waits until the projector is idle, and returns
// how many events JetStream reported as duplicates.
func importNDJSON(t *testing.T, h *apptest.Harness, body []byte, lines int) int {
	t.Helper()
	all := bytes.SplitAfter(bytes.TrimSuffix(body, []byte{'\n'}), []byte{'\n'})
	dups := 0
	for i := 0; i < len(all); i += lines {
		chunk := bytes.Join(all[i:min(i+lines, len(all))], nil)
		status, resp := h.Post(string(chunk) + "\n")
		if rej, _ := resp["rejected"].([]any); status != http.StatusAccepted || len(rej) > 0 {
			t.Fatalf("POST lines %d..: status %d, rejected %v", i+1, status, resp["rejected"])
		}
		if got, want := int(resp["accepted"].(float64)), min(lines, len(all)-i); got != want {
			t.Fatalf("POST lines %d..: accepted %d, want %d", i+1, got, want)
		}
		dups += int(resp["duplicates"].(float64))
	}
	h.Idle()
	return dups
}

// exact returns the exact text of a KPI whose query yields one row.
func exact(t *testing.T, h *apptest.Harness, name, query string) string {
	t.Helper()
	ans := h.KPI(name, query)
	if len(ans.Rows) != 1 {
		t.Fatalf("%s?%s: %d rows, want 1", name, query, len(ans.Rows))
	}
	return ans.Rows[0].Exact
}

// value returns the float value of a KPI whose query yields one row.
func value(t *testing.T, h *apptest.Harness, name, query string) float64 {
	t.Helper()
	ans := h.KPI(name, query)
	if len(ans.Rows) != 1 || ans.Rows[0].Value == nil {
		t.Fatalf("%s?%s: rows %+v, want one with a value", name, query, ans.Rows)
	}
	return *ans.Rows[0].Value
}

// fixed formats v with n decimals, to compare a float KPI as it is shown.
func fixed(v float64, n int) string { return strconv.FormatFloat(v, 'f', n, 64) }

// logKPIs logs every KPI of names over query, for the README's table.
func logKPIs(t *testing.T, h *apptest.Harness, query string, names ...string) {
	t.Helper()
	for _, name := range names {
		for _, r := range h.KPI(name, query).Rows {
			v := "null"
			if r.Value != nil {
				v = strconv.FormatFloat(*r.Value, 'g', -1, 64)
			}
			t.Logf("%-20s %s exact=%q value=%s", name, r.WindowStart.Format("2006-01-02"),
				r.Exact, v)
		}
	}
}

// The Facebook figures come from the dataset folder's README, which
// computed them with awk over the CSV.
const facebookRange = "tenant=facebook-demo&from=2023-08-01&to=2023-09-01"

func TestFacebookAds(t *testing.T) {
	body := convertDataset(t, convert.FacebookFile, convert.Facebook)
	events := bytes.Count(body, []byte{'\n'})
	h := apptest.Start(t)

	if dups := importNDJSON(t, h, body, chunkLines); dups != 0 {
		t.Errorf("first import: %d duplicates, want 0", dups)
	}
	checkFacebook(t, h)
	checkFacebookGoals(t, h)
	logKPIs(t, h, facebookRange, "impressions", "clicks", "ctr", "spend", "cpc", "cpm",
		"conversions", "conversion_rate", "conversion_value", "roas")

	// The same requests again: JetStream drops every message as a repeat.
	if got := importNDJSON(t, h, body, chunkLines); got != events {
		t.Errorf("second import: %d duplicates, want all %d events", got, events)
	}
	checkFacebook(t, h)

	// Other chunks make other messages, which JetStream stores; the
	// projector must drop every event by its id.
	dups := importNDJSON(t, h, body, 997)
	t.Logf("third import: JetStream dropped %d of %d events, the projector the rest", dups, events)
	checkFacebook(t, h)
}

func checkFacebook(t *testing.T, h *apptest.Harness) {
	t.Helper()
	for name, want := range map[string]string{"impressions": "213434828", "clicks": "38165",
		"spend": "58705.23", "conversions": "3264", "cpc": "1.538195"} {
		if got := exact(t, h, name, facebookRange); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	ctr := value(t, h, "ctr", facebookRange)
	if got, want := fixed(ctr, 6), "0.017881"; got != want {
		t.Errorf("ctr = %s %%, want %s %%", got, want)
	}
	if want := 38165.0 / 213434828 * 100; math.Abs(ctr-want) > 1e-15 {
		t.Errorf("ctr = %v %%, want %v %%", ctr, want)
	}
	if got, want := fixed(value(t, h, "cpc", facebookRange), 4), "1.5382"; got != want {
		t.Errorf("cpc = %s, want %s", got, want)
	}
	checkFacebookCampaigns(t, h)
	checkFacebookDay(t, h)
}

func checkFacebookCampaigns(t *testing.T, h *apptest.Harness) {
	t.Helper()
	want := map[string]map[string]string{
		"1178": {"impressions": "204823716", "clicks": "36068", "spend": "55662.15",
			"conversions": "2669"},
		"936": {"impressions": "8128187", "clicks": "1984", "spend": "2893.37",
			"conversions": "537"},
		"916": {"impressions": "482925", "clicks": "113", "spend": "149.71",
			"conversions": "58"},
	}
	for _, name := range []string{"impressions", "clicks", "spend", "conversions"} {
		ans := h.KPI(name, facebookRange+"&group_by=campaign")
		if len(ans.Rows) != len(want) {
			t.Errorf("%s by campaign: %d rows, want %d", name, len(ans.Rows), len(want))
		}
		for _, r := range ans.Rows {
			c := r.Group["campaign"]
			if got, want := r.Exact, want[c][name]; got != want {
				t.Errorf("%s of campaign %q = %s, want %s", name, c, got, want)
			}
		}
	}
}

func checkFacebookDay(t *testing.T, h *apptest.Harness) {
	t.Helper()
	day := time.Date(2023, 8, 17, 0, 0, 0, 0, time.UTC)
	for name, want := range map[string]string{"impressions": "9966068", "clicks": "1756",
		"spend": "2739.51"} {
		got := ""
		for _, r := range h.KPI(name, facebookRange+"&window=day").Rows {
			if r.WindowStart.Equal(day) {
				got = r.Exact
			}
		}
		if got != want {
			t.Errorf("%s on 2023-08-17 = %q, want %s", name, got, want)
		}
	}
}

// The Telco figures come from the dataset folder's README: sums of
// MonthlyCharges over rows with tenure >= 1 (customers paying at the end of
// 2024-11), over retained rows (paying at the end of 2024-12) and over
// churned rows (lost in 2024-12).
const (
	telcoMonths   = "tenant=telco-demo&from=2024-11-01&to=2025-01-01&window=month"
	telcoDecember = "tenant=telco-demo&from=2024-12-01&to=2025-01-01"
)

func TestTelcoSubscriptions(t *testing.T) {
	body := convertDataset(t, convert.TelcoFile, convert.Telco(convert.TelcoMonth))
	h := apptest.Start(t)
	importNDJSON(t, h, body, chunkLines)

	checkTelcoMRR(t, h)
	churn := value(t, h, "customer_churn_rate", telcoDecember)
	if got, want := fixed(churn, 2), "26.58"; got != want {
		t.Errorf("customer_churn_rate = %s %%, want %s %%", got, want)
	}
	if want := 1869.0 / 7032 * 100; math.Abs(churn-want) > 1e-9 {
		t.Errorf("customer_churn_rate = %v %%, want 1869 / 7032 = %v %%", churn, want)
	}
	checkTelcoMRRChurn(t, h)
	checkTelcoGoals(t, h)
	logKPIs(t, h, telcoMonths, "mrr", "arpu", "customer_churn_rate", "gross_mrr_churn")
}

func checkTelcoMRR(t *testing.T, h *apptest.Harness) {
	t.Helper()
	ans := h.KPI("mrr", telcoMonths)
	want := []struct {
		start time.Time
		exact string
	}{
		{time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), "455661.00"},
		{time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), "316985.75"},
	}
	if len(ans.Rows) != len(want) {
		t.Fatalf("mrr: %d rows, want %d", len(ans.Rows), len(want))
	}
	for i, w := range want {
		r := ans.Rows[i]
		if !r.WindowStart.Equal(w.start) || r.Exact != w.exact {
			t.Errorf("mrr row %d = %s at the end of the window from %s, want %s from %s",
				i, r.Exact, r.WindowStart.Format(time.DateOnly), w.exact,
				w.start.Format(time.DateOnly))
		}
	}
}

// checkTelcoMRRChurn reads gross_mrr_churn itself: apptest's Answer has no
// rate_percent.
func checkTelcoMRRChurn(t *testing.T, h *apptest.Harness) {
	t.Helper()
	resp, err := http.Get(h.Base + "/v1/kpis/gross_mrr_churn?" + telcoDecember)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Rows []struct {
			Exact string   `json:"exact"`
			Rate  *float64 `json:"rate_percent"`
		} `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("gross_mrr_churn: %s: %v", resp.Status, err)
	}
	if len(ans.Rows) != 1 || ans.Rows[0].Rate == nil {
		t.Fatalf("gross_mrr_churn: rows %+v, want one with rate_percent", ans.Rows)
	}
	if got, want := ans.Rows[0].Exact, "139130.85"; got != want {
		t.Errorf("gross_mrr_churn = %s, want %s", got, want)
	}
	if got, want := *ans.Rows[0].Rate, 139130.85/455661*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("gross_mrr_churn rate = %v %%, want 139130.85 / 455661 = %v %%", got, want)
	}
}

// goalRow is one KPI of the README's table: its value over a period, the
// goal set for it, and the change from the previous period.
type goalRow struct {
	Value    string
	Target   string
	Progress string
	Status   string
	Previous string
	Change   string
}

// withGoal sets target as the goal of KPI name for tenant over [from, to),
// then reads the KPI over that period with compare=previous.
func withGoal(t *testing.T, h *apptest.Harness, name, tenant, from, to, target string) goalRow {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"kpi": name, "tenant": tenant, "from": from,
		"to": to, "target": target})
	req, _ := http.NewRequest(http.MethodPut, h.Base+"/v1/goals", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT goal %s: %s", name, resp.Status)
	}
	resp, err = http.Get(h.Base + "/v1/kpis/" + name + "?tenant=" + tenant + "&from=" + from +
		"&to=" + to + "&compare=previous")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type val struct {
		Value *float64 `json:"value"`
		Exact string   `json:"exact"`
	}
	var ans struct {
		Rows []struct {
			val
			Goal *struct {
				Target   string   `json:"target"`
				Progress *float64 `json:"progress_percent"`
				Status   string   `json:"status"`
			} `json:"goal"`
			Previous *struct {
				val
				ChangePercent *float64 `json:"change_percent"`
			} `json:"previous"`
		} `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("%s: %s: %v", name, resp.Status, err)
	}
	if len(ans.Rows) != 1 || ans.Rows[0].Goal == nil || ans.Rows[0].Previous == nil {
		t.Fatalf("%s: rows %+v, want one with goal and previous", name, ans.Rows)
	}
	text := func(v val) string {
		switch {
		case v.Exact != "":
			return v.Exact
		case v.Value != nil:
			return fixed(*v.Value, 4)
		}
		return "null"
	}
	pct := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fixed(*p, 1)
	}
	r := ans.Rows[0]
	g := goalRow{Value: text(r.val), Target: r.Goal.Target, Progress: pct(r.Goal.Progress),
		Status: r.Goal.Status, Previous: text(r.Previous.val), Change: pct(r.Previous.ChangePercent)}
	t.Logf("| %s | %s | %s | %s %% | %s | %s | %s %% |", name, g.Value, g.Target, g.Progress,
		g.Status, g.Previous, g.Change)
	return g
}

// goalCase is one row of the README's goal table: a KPI, the target set
// for it, and what the API must answer.
type goalCase struct {
	name, target string
	want         goalRow
}

// checkGoals sets each case's goal for tenant over [from, to) and compares
// the answer with the README's row.
func checkGoals(t *testing.T, h *apptest.Harness, tenant, from, to string, cases []goalCase) {
	t.Helper()
	for _, c := range cases {
		if got := withGoal(t, h, c.name, tenant, from, to, c.target); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// checkFacebookGoals: the last full week of the data (21 to 28 August
// 2023) against the week before, with goals an agency might have set.
func checkFacebookGoals(t *testing.T, h *apptest.Harness) {
	t.Helper()
	checkGoals(t, h, "facebook-demo", "2023-08-21", "2023-08-28", []goalCase{
		{"impressions", "50000000",
			goalRow{"46625578", "50000000.00", "93.3", "behind", "51518569", "-9.5"}},
		{"clicks", "9000", goalRow{"8429", "9000.00", "93.7", "behind", "9228", "-8.7"}},
		{"ctr", "0.018", goalRow{"0.0181", "0.018", "100.4", "on_track", "0.0179", "0.9"}},
		{"spend", "15000",
			goalRow{"12879.85", "15000.00", "85.9", "ahead", "14335.22", "-10.2"}},
		{"cpc", "1.50", goalRow{"1.52804", "1.50", "101.9", "on_track", "1.553448", "-1.6"}},
		{"cpm", "0.30", goalRow{"0.27624", "0.30", "92.1", "ahead", "0.278253", "-0.7"}},
		{"conversions", "700", goalRow{"700", "700.00", "100.0", "on_track", "808", "-13.4"}},
		{"conversion_rate", "8",
			goalRow{"8.3047", "8.00", "103.8", "on_track", "8.7560", "-5.2"}},
	})
}

// checkTelcoGoals: December 2024 against November, with goals.
func checkTelcoGoals(t *testing.T, h *apptest.Harness) {
	t.Helper()
	checkGoals(t, h, "telco-demo", "2024-12-01", "2025-01-01", []goalCase{
		{"mrr", "450000",
			goalRow{"316985.75", "450000.00", "70.4", "behind", "455661.00", "-30.4"}},
		{"net_new_mrr", "0",
			goalRow{"-138675.25", "0.00", "null", "behind", "30947.80", "-548.1"}},
		{"mrr_churned", "50000",
			goalRow{"139130.85", "50000.00", "278.3", "behind", "0.00", "null"}},
		{"customer_churn_rate", "5",
			goalRow{"26.5785", "5.00", "531.6", "behind", "0.0000", "null"}},
		{"arpa", "64", goalRow{"61.265124", "64.00", "95.7", "on_track", "64.798208", "-5.5"}},
		{"clv_predictive", "1000",
			goalRow{"230.50634", "1000.00", "23.1", "behind", "null", "null"}},
	})
}
