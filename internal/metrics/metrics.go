// Package metrics exposes kpi's counters to Prometheus. The roles keep their
// own counters (so they stay free of a metrics dependency); a collector here
// reads them at scrape time, and the projector reports batch latency through
// a callback.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kpi-analytics/kpi/ingest"
	"github.com/kpi-analytics/kpi/projections"
)

// Sources are the roles whose counters are exported; nil ones are skipped.
type Sources struct {
	Ingest    *ingest.Handler
	Projector *projections.Projector
}

// Registry holds kpi's metrics.
type Registry struct {
	reg          *prometheus.Registry
	batchSeconds prometheus.Histogram
	roles        *collector
}

// New registers kpi's collectors; Watch tells them which roles to read.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), roles: &collector{}}
	r.batchSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kpi_projection_batch_seconds", Help: "Time to write and acknowledge one batch.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	r.reg.MustRegister(r.batchSeconds, r.roles,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Watch exports the counters of the roles in src. Call it before serving.
func (r *Registry) Watch(src Sources) { r.roles.src = src }

// ObserveBatch records one projected batch; pass it as projections.Config.OnBatch.
func (r *Registry) ObserveBatch(d time.Duration, _ int) { r.batchSeconds.Observe(d.Seconds()) }

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

var (
	ingestDesc = prometheus.NewDesc("kpi_ingest_events_total",
		"Events received by the ingest API, by result.", []string{"result"}, nil)
	projectedDesc = prometheus.NewDesc("kpi_projected_events_total",
		"Events written to ClickHouse by the projector.", nil, nil)
	duplicateDesc = prometheus.NewDesc("kpi_projection_duplicates_total",
		"Redelivered events the projector found already written.", nil, nil)
	deadDesc = prometheus.NewDesc("kpi_dead_lettered_total",
		"Messages moved to the dead-letter stream.", nil, nil)
	writeErrDesc = prometheus.NewDesc("kpi_projection_write_errors_total",
		"Failed ClickHouse writes (each retried).", nil, nil)
	lagDesc = prometheus.NewDesc("kpi_consumer_lag_messages",
		"Messages the projector has not yet acknowledged.", nil, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ingestDesc, projectedDesc, duplicateDesc, deadDesc,
		writeErrDesc, lagDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if h := c.src.Ingest; h != nil {
		s := h.Stats()
		for result, v := range map[string]int64{"accepted": s.Accepted, "rejected": s.Rejected,
			"duplicate": s.Duplicates, "unavailable": s.Unavailable} {
			ch <- prometheus.MustNewConstMetric(ingestDesc, prometheus.CounterValue, float64(v), result)
		}
	}
	p := c.src.Projector
	if p == nil {
		return
	}
	s := p.Stats()
	ch <- prometheus.MustNewConstMetric(projectedDesc, prometheus.CounterValue, float64(s.Projected))
	ch <- prometheus.MustNewConstMetric(duplicateDesc, prometheus.CounterValue, float64(s.Duplicates))
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.CounterValue, float64(s.DeadLettered))
	ch <- prometheus.MustNewConstMetric(writeErrDesc, prometheus.CounterValue, float64(s.WriteErrors))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if lag, err := p.Pending(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(lag))
	}
}
