// Package brokertest gives tests a real JetStream: an embedded NATS server
// on a loopback port with its file store in the test's temporary directory,
// and kpi's streams declared.
package brokertest

import (
	"context"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/internal/broker"
)

// Start runs the server and connects to it; both stop when the test ends.
func Start(t testing.TB) (*server.Server, jetstream.JetStream) {
	t.Helper()
	ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, js, err := broker.Connect(broker.ClientConfig{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := broker.EnsureStreams(context.Background(), js, broker.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return ns, js
}
