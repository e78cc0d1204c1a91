package convert

import (
	"fmt"
	"io"
	"time"
)

// Labels of the events made from the Telco churn sample.
const (
	// TelcoFile is the sample's name in the dataset folder.
	TelcoFile   = "telco_subscriptions.csv"
	TelcoTenant = "telco-demo"
	TelcoSource = "telco-churn-csv"
	// TelcoCurrency is an assumption: the sample names no currency.
	TelcoCurrency = "USD"
)

// TelcoMonth is the reference month the sample is read against by default:
// tenure counts whole months up to it, and Churn=Yes means the customer
// left during it.
var TelcoMonth = time.Date(2024, time.December, 1, 0, 0, 0, 0, time.UTC)

// Telco returns the [Func] converting telco_subscriptions.csv, one row per
// customer, against the reference month of month (its year and month).
//
// A customer with tenure t gets a monthly subscription_started at 00:00 UTC
// on the first day of the month t months before the reference month, for
// MonthlyCharges in [TelcoCurrency], with subscription customerID + "-sub";
// with Churn=Yes, also a subscription_canceled on the 15th of the reference
// month. Ids derive from customerID and type.
func Telco(month time.Time) Func {
	m := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	rowOf := func(r row) ([]Event, int, error) { return telcoRow(r, m) }
	return func(in io.Reader, out io.Writer, onBad func(*RowError)) (Stats, error) {
		return run(in, out, onBad, rowOf, "customerID", "tenure", "MonthlyCharges", "Churn")
	}
}

// maxTenure caps tenure, in months, to a century.
const maxTenure = 1200

func telcoRow(r row, month time.Time) ([]Event, int, error) {
	customer, err := r.required("customerID")
	if err != nil {
		return nil, 0, err
	}
	tenure, err := r.count("tenure")
	if err != nil {
		return nil, 0, err
	}
	churned, err := telcoChurn(r.text("Churn"))
	if err != nil {
		return nil, 0, err
	}
	// Capped so that month arithmetic cannot overflow; events.Parse rejects
	// the start anyway, being before 2000.
	start := month.AddDate(0, -int(min(tenure, maxTenure)), 0)
	evs := []Event{telcoEvent(customer, "subscription_started", start)}
	evs[0].Amount, evs[0].Currency, evs[0].Interval = r.text("MonthlyCharges"), TelcoCurrency, "month"
	if churned {
		evs = append(evs, telcoEvent(customer, "subscription_canceled", month.AddDate(0, 0, 14)))
	}
	return evs, 0, nil
}

// telcoEvent returns an event of type typ of the customer's subscription.
func telcoEvent(customer, typ string, at time.Time) Event {
	return Event{ID: eventID(TelcoSource, customer, typ), Type: typ, Tenant: TelcoTenant,
		OccurredAt: timestamp(at), Source: TelcoSource, Customer: customer,
		Subscription: customer + "-sub"}
}

func telcoChurn(s string) (bool, error) {
	switch s {
	case "Yes":
		return true, nil
	case "No":
		return false, nil
	}
	return false, fmt.Errorf("column Churn: %q is neither Yes nor No", s)
}
