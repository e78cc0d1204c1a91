package projections

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"

	"github.com/kpi-analytics/kpi/events"
)

// appendRow encodes one event as a RowBinary row of the events table, in the
// order of eventColumns. Writing bytes straight from the Event, rather than
// boxing twenty values per row into []any, keeps the projector's own cost
// per event well below the engine's.
func appendRow(b []byte, e *events.Event, seq uint64, idx uint32) ([]byte, error) {
	u, err := uuid.Parse(e.ID)
	if err != nil {
		return b, fmt.Errorf("event id %q: %w", e.ID, err)
	}
	b = binary.LittleEndian.AppendUint64(b, binary.BigEndian.Uint64(u[:8]))
	b = binary.LittleEndian.AppendUint64(b, binary.BigEndian.Uint64(u[8:]))
	b = appendString(b, e.Tenant)
	b = appendString(b, string(e.Type))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.OccurredAt.UnixMilli()))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.ReceivedAt.UnixMilli()))
	for _, s := range []string{e.Source, e.Campaign, e.Ad, e.Channel} {
		b = appendString(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Count))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Value))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Amount))
	for _, s := range []string{e.Currency, e.Customer, e.Subscription, e.Plan, e.Interval, e.Invoice} {
		b = appendString(b, s)
	}
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint32(b, idx)
	return appendCatalogue(b, e), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
