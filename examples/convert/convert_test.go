package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
)

// convertAll runs conv on csv and returns the events, the rows reported
// as malformed and the statistics.
func convertAll(t *testing.T, conv Func, csv string) ([]Event, []*RowError, Stats) {
	t.Helper()
	var out bytes.Buffer
	var bad []*RowError
	st, err := conv(strings.NewReader(csv), &out, func(e *RowError) { bad = append(bad, e) })
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	var evs []Event
	dec := json.NewDecoder(&out)
	for dec.More() {
		var e Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("decode output: %v", err)
		}
		evs = append(evs, e)
	}
	return evs, bad, st
}

func TestCents(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "0", want: "0.00"},
		{in: "1.429999948", want: "1.43"},
		{in: "10.28000021", want: "10.28"},
		{in: "1.5", want: "1.50"},
		{in: "0.005", want: "0.01"},
		{in: "0.00499999", want: "0.00"},
		{in: "9.995", want: "10.00"},
		{in: "007.1", want: "7.10"},
		{in: "", wantErr: true},
		{in: "1.", wantErr: true},
		{in: ".5", wantErr: true},
		{in: "-1.2", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "1234567890123456.5", wantErr: true},
	}
	for _, tt := range tests {
		got, err := cents(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("cents(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

const facebookHeader = "Date,ad_id,xyz_campaign_id,fb_campaign_id,age,gender,interest," +
	"Impressions,Clicks,Spent,Total_Conversion,Approved_Conversion\n"

func TestFacebook(t *testing.T) {
	csv := facebookHeader +
		"17-08-2023,708746,916,103916,30-34,M,15,7350,2,1.429999948,3,1\n" +
		"31-08-2023,708771,916,103920,30-34,M,20,693,0,0,1,0\n"
	evs, bad, st := convertAll(t, Facebook, csv)
	if len(bad) != 0 {
		t.Fatalf("malformed rows: %v", bad)
	}
	if want := (Stats{Rows: 2, Events: 6, Skipped: 2}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	first := Event{Tenant: FacebookTenant, OccurredAt: "2023-08-17T00:00:00Z",
		Source: FacebookSource, Campaign: "916", Ad: "708746", Channel: FacebookChannel}
	want := []Event{
		with(first, "impression", 7350, ""), with(first, "click", 2, ""),
		with(first, "conversion", 3, ""), with(first, "cost", 0, "1.43"),
	}
	second := first
	second.OccurredAt, second.Ad = "2023-08-31T00:00:00Z", "708771"
	want = append(want, with(second, "impression", 693, ""), with(second, "conversion", 1, ""))
	for i := range evs {
		evs[i].ID = ""
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events:\n got %+v\nwant %+v", evs, want)
	}
}

func with(e Event, typ string, count int64, amount string) Event {
	e.Type, e.Count, e.Amount = typ, count, amount
	if amount != "" {
		e.Currency = FacebookCurrency
	}
	return e
}

func TestFacebookMalformedRows(t *testing.T) {
	csv := facebookHeader +
		"2023-08-17,1,916,1,30-34,M,15,10,1,1.5,1,1\n" +
		"17-08-2023,2,916,1,30-34,M,15,-3,1,1.5,1,1\n" +
		"17-08-2023,3,916,1,30-34,M,15,10,1,1.5\n" +
		"17-08-2023,4,916,1,30-34,M,15,10,1,one,1,1\n" +
		"17-08-2023,,916,1,30-34,M,15,10,1,1.5,1,1\n" +
		"17-08-2023,6,916,1,30-34,M,15,10,1,1.5,1,1\n"
	evs, bad, st := convertAll(t, Facebook, csv)
	var lines []int
	for _, e := range bad {
		lines = append(lines, e.Line)
	}
	if got, want := lines, []int{2, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("malformed lines = %v, want %v (%v)", got, want, bad)
	}
	if want := (Stats{Rows: 6, Events: 4, Malformed: 5}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if len(evs) != 4 || evs[0].Ad != "6" {
		t.Errorf("events = %+v, want the four of ad 6", evs)
	}
}

func TestFacebookMissingColumn(t *testing.T) {
	csv := "Date,ad_id,xyz_campaign_id,Impressions,Clicks,Total_Conversion\n"
	_, err := Facebook(strings.NewReader(csv), &bytes.Buffer{}, nil)
	if !errors.Is(err, ErrMissingColumn) || !strings.Contains(err.Error(), "Spent") {
		t.Errorf("error = %v, want ErrMissingColumn naming Spent", err)
	}
}

func TestFacebookIDs(t *testing.T) {
	csv := facebookHeader + "17-08-2023,708746,916,103916,30-34,M,15,7350,2,1.43,3,1\n"
	a, _, _ := convertAll(t, Facebook, csv)
	b, _, _ := convertAll(t, Facebook, csv)
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("event %d: id %s then %s, want the same on every run", i, a[i].ID, b[i].ID)
		}
		if seen[a[i].ID] {
			t.Errorf("event %d: id %s used twice", i, a[i].ID)
		}
		seen[a[i].ID] = true
	}
}

const telcoHeader = "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService," +
	"MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport," +
	"StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges," +
	"TotalCharges,Churn\r\n"

// telcoRowCSV makes a CRLF-terminated row with the given fields.
func telcoRowCSV(id, tenure, charges, churn string) string {
	return id + ",Female,0,Yes,No," + tenure + ",No,No,DSL,No,Yes,No,No,No,No,Month-to-month," +
		"Yes,Electronic check," + charges + ",29.85," + churn + "\r\n"
}

func TestTelco(t *testing.T) {
	csv := telcoHeader + telcoRowCSV("A-1", "1", "29.85", "No") +
		telcoRowCSV("B-2", "0", "20.5", "No") + telcoRowCSV("C-3", "34", "56.95", "Yes")
	evs, bad, st := convertAll(t, Telco(time.Date(2024, 12, 9, 0, 0, 0, 0, time.UTC)), csv)
	if len(bad) != 0 {
		t.Fatalf("malformed rows: %v", bad)
	}
	if want := (Stats{Rows: 3, Events: 4}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	want := []Event{
		started("A-1", "2024-11-01T00:00:00Z", "29.85"),
		started("B-2", "2024-12-01T00:00:00Z", "20.5"),
		started("C-3", "2022-02-01T00:00:00Z", "56.95"),
		{Type: "subscription_canceled", Tenant: TelcoTenant, OccurredAt: "2024-12-15T00:00:00Z",
			Source: TelcoSource, Customer: "C-3", Subscription: "C-3-sub"},
	}
	for i := range evs {
		evs[i].ID = ""
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events:\n got %+v\nwant %+v", evs, want)
	}
}

func started(customer, at, amount string) Event {
	return Event{Type: "subscription_started", Tenant: TelcoTenant, OccurredAt: at,
		Source: TelcoSource, Amount: amount, Currency: TelcoCurrency, Customer: customer,
		Subscription: customer + "-sub", Interval: "month"}
}

func TestTelcoMalformedRows(t *testing.T) {
	tests := []struct {
		name, row string
		wantField string // the event field rejected, if events.Parse rejected it
	}{
		{name: "churn neither yes nor no", row: telcoRowCSV("A", "1", "9.5", "Maybe")},
		{name: "fractional tenure", row: telcoRowCSV("A", "1.5", "9.5", "No")},
		{name: "empty customer", row: telcoRowCSV("", "1", "9.5", "No")},
		{name: "no charges", row: telcoRowCSV("A", "1", "", "No"), wantField: "amount"},
		{name: "negative charges", row: telcoRowCSV("A", "1", "-9.5", "No"), wantField: "amount"},
		{name: "before 2000", row: telcoRowCSV("A", "400", "9.5", "No"), wantField: "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, bad, _ := convertAll(t, Telco(TelcoMonth), telcoHeader+tt.row)
			if len(bad) != 1 || bad[0].Line != 2 {
				t.Fatalf("malformed rows = %v, want line 2", bad)
			}
			var fe *events.FieldError
			if got := errors.As(bad[0], &fe); got != (tt.wantField != "") ||
				got && fe.Field != tt.wantField {
				t.Errorf("error %v: field error %v, want field %q", bad[0], fe, tt.wantField)
			}
		})
	}
}
