package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

func defaultURL() string { return env("KPI_URL", "http://127.0.0.1:8080") }

func runImport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	batch := fs.Int("batch", 5000, "events per request")
	quiet := fs.Bool("quiet", false, "no progress bar")
	asCSV := fs.Bool("csv", false, "the file is CSV whose header row names event fields "+
		"(default when FILE ends in .csv)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kpi import [flags] FILE.ndjson|FILE.csv (- for stdin)")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("one file expected")
	}
	key, err := af.apiKey()
	if err != nil {
		return err
	}
	in, size, err := openInput(fs.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	bar := progressbar.NewOptions64(size, progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowBytes(true), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetVisibility(!*quiet), progressbar.OptionThrottle(200*time.Millisecond))
	imp := importer{url: strings.TrimRight(af.url, "/") + "/v1/events", key: key,
		client: &http.Client{Timeout: 2 * time.Minute}}
	read := readNDJSON
	if *asCSV || strings.HasSuffix(strings.ToLower(fs.Arg(0)), ".csv") {
		read = readCSV
	}
	err = imp.run(ctx, read(io.TeeReader(in, bar)), *batch)
	_ = bar.Finish()
	fmt.Fprintf(os.Stderr, "\naccepted %d, duplicates %d, rejected %d\n",
		imp.accepted, imp.duplicates, len(imp.rejected))
	for i, r := range imp.rejected {
		if i == 20 {
			fmt.Fprintf(os.Stderr, "... and %d more\n", len(imp.rejected)-20)
			break
		}
		fmt.Fprintln(os.Stderr, "  "+r)
	}
	if err == nil && len(imp.rejected) > 0 {
		// A non-zero exit lets a script notice; the accepted events stay
		// stored, and a resend of the fixed file only adds the rest.
		err = fmt.Errorf("%d events rejected (listed above); the others were stored",
			len(imp.rejected))
	}
	return err
}

func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return os.Stdin, -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// withIDs adds the ids the server assigned to events sent without one, so
// that a resend after 503 cannot store an event twice.
func withIDs(body []byte, ids []*string) []byte {
	if len(ids) == 0 {
		return body
	}
	var out bytes.Buffer
	i := 0
	for line := range bytes.SplitSeq(bytes.TrimRight(body, "\n"), []byte{'\n'}) {
		if i < len(ids) && ids[i] != nil && !bytes.Contains(line, []byte(`"id"`)) {
			var m map[string]json.RawMessage
			if json.Unmarshal(line, &m) == nil {
				m["id"], _ = json.Marshal(*ids[i])
				line, _ = json.Marshal(m)
			}
		}
		out.Write(line)
		out.WriteByte('\n')
		i++
	}
	return out.Bytes()
}

func runQuery(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	from := fs.String("from", "", "start of the range (RFC 3339 or YYYY-MM-DD), inclusive")
	to := fs.String("to", "", "end of the range, exclusive")
	window := fs.String("window", "all", "minute, hour, day, week, month or all")
	groupBy := fs.String("group-by", "", "comma-separated dimensions")
	tz := fs.String("tz", "", "time zone of window boundaries (default UTC)")
	compare := fs.String("compare", "", "previous: add the previous period of the same length "+
		"and the change")
	convertTo := fs.String("convert-to", "", "ISO 4217 currency to convert amounts into")
	var filters multiFlag
	fs.Var(&filters, "filter", "dimension=value, repeatable")
	asCSV := fs.Bool("csv", false, "print CSV instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kpi query [flags] KPI   (kpi query list: the catalogue)")
		fs.PrintDefaults()
	}
	// Accept flags after the KPI name too.
	name, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	_ = fs.Parse(rest)
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	key, err := af.apiKey()
	if err != nil {
		return err
	}
	base := strings.TrimRight(af.url, "/")
	if name == "" || name == "list" {
		return printCatalogue(ctx, base, key)
	}
	q := url.Values{"from": {*from}, "to": {*to}, "window": {*window}}
	if *groupBy != "" {
		q.Set("group_by", *groupBy)
	}
	for k, v := range map[string]string{"tz": *tz, "compare": *compare, "convert_to": *convertTo} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("filter %q: want dimension=value", f)
		}
		q.Set(k, v)
	}
	if *asCSV {
		q.Set("format", "csv")
		return getTo(ctx, base+"/v1/kpis/"+url.PathEscape(name)+"?"+q.Encode(), key, stdout)
	}
	var ans answer
	u := base + "/v1/kpis/" + url.PathEscape(name) + "?" + q.Encode()
	if err := getJSON(ctx, u, key, &ans); err != nil {
		return err
	}
	return printAnswer(stdout, ans)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// answer mirrors queries.Answer as a client sees it.
type answer struct {
	KPI struct {
		Name, Unit, Formula string
	} `json:"kpi"`
	GroupBy []string `json:"group_by"`
	Rows    []struct {
		WindowStart time.Time         `json:"window_start"`
		WindowEnd   time.Time         `json:"window_end"`
		Group       map[string]string `json:"group"`
		Currency    string            `json:"currency"`
		answerValue
		Goal *struct {
			Target   string   `json:"target"`
			Progress *float64 `json:"progress_percent"`
			Status   string   `json:"status"`
		} `json:"goal"`
		Previous *struct {
			answerValue
			Change        *float64 `json:"change"`
			ChangeExact   string   `json:"change_exact"`
			ChangePercent *float64 `json:"change_percent"`
		} `json:"previous"`
	} `json:"rows"`
}

// answerValue is a value as the API writes it: a number, exact decimal text
// for money and hours, and a rate beside some counts.
type answerValue struct {
	Value *float64 `json:"value"`
	Exact string   `json:"exact"`
	Rate  *float64 `json:"rate_percent"`
}

// printAnswer prints the rows as a table; goal and previous-period columns
// follow when any row has them.
func printAnswer(w io.Writer, ans answer) error {
	var goals, prev bool
	for _, r := range ans.Rows {
		goals = goals || r.Goal != nil
		prev = prev || r.Previous != nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := append([]string{"window_start", "window_end"}, ans.GroupBy...)
	head = append(head, ans.KPI.Name+" ("+ans.KPI.Unit+")")
	if goals {
		head = append(head, "target", "progress", "status")
	}
	if prev {
		head = append(head, "previous", "change", "change %")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range ans.Rows {
		rec := []string{r.WindowStart.Format(time.RFC3339), r.WindowEnd.Format(time.RFC3339)}
		for _, d := range ans.GroupBy {
			rec = append(rec, r.Group[d])
		}
		rec = append(rec, formatValue(r.answerValue, r.Currency))
		if goals {
			if g := r.Goal; g != nil {
				rec = append(rec, g.Target, percentText(g.Progress), or(g.Status, "-"))
			} else {
				rec = append(rec, "-", "-", "-")
			}
		}
		if prev {
			if p := r.Previous; p != nil {
				change := formatValue(answerValue{Value: p.Change, Exact: p.ChangeExact}, "")
				rec = append(rec, formatValue(p.answerValue, r.Currency), change,
					percentText(p.ChangePercent))
			} else {
				rec = append(rec, "-", "-", "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t")+"\t")
	}
	return tw.Flush()
}

func formatValue(v answerValue, currency string) string {
	s := "null"
	switch {
	case v.Exact != "":
		s = strings.TrimSpace(v.Exact + " " + currency)
	case v.Value != nil:
		s = strconv.FormatFloat(*v.Value, 'f', 4, 64)
	}
	if v.Rate != nil {
		s += fmt.Sprintf(" (%.2f %%)", *v.Rate)
	}
	return s
}

func percentText(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.2f %%", *p)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func printCatalogue(ctx context.Context, base, key string) error {
	var cat struct {
		KPIs []struct{ Name, Unit, Formula string } `json:"kpis"`
	}
	if err := getJSON(ctx, base+"/v1/kpis", key, &cat); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KPI\tUNIT\tFORMULA")
	for _, k := range cat.KPIs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, k.Unit, k.Formula)
	}
	return tw.Flush()
}

func getJSON(ctx context.Context, u, key string, dst any) error {
	var buf bytes.Buffer
	if err := getTo(ctx, u, key, &buf); err != nil {
		return err
	}
	return json.Unmarshal(buf.Bytes(), dst)
}

func getTo(ctx context.Context, u, key string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	authorize(req, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return answerError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
