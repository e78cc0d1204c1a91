// Package examples holds the acceptance tests that push two public datasets
// through the whole of kpi (HTTP ingest, JetStream, the projector, ClickHouse
// and the query API) and check the KPIs against figures computed
// independently. The converters live in package convert, with a command for
// each dataset in the folders facebook and telco.
package examples
