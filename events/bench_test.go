package events

import (
	"strings"
	"testing"
)

const benchClick = `{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"click",` +
	`"tenant":"acme-shoes","occurred_at":"2024-03-31T02:30:00.123+02:00",` +
	`"source":"web-pixel","campaign":"spring-sale-2024","ad":"banner-728x90-b",` +
	`"channel":"google_ads","count":1}`

const benchInvoice = `{"type":"invoice_paid","tenant":"acme-shoes",` +
	`"occurred_at":"2024-03-31T00:30:00Z","customer":"cus_NffrFeUfNV2Hib",` +
	`"subscription":"sub_1MowQVLkdIwHu7ixeRlqHVzs","plan":"pro-monthly",` +
	`"invoice":"in_1MtHbELkdIwHu7ixl4OzzPMv","amount":"49.90","currency":"EUR"}`

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, data string }{
		{"click", benchClick},
		{"invoice_paid", benchInvoice},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := []byte(bc.data)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, fe := Parse(data, testNow, fixedID); fe != nil {
					b.Fatal(fe)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	ev, fe := Parse([]byte(benchInvoice), testNow, fixedID)
	if fe != nil {
		b.Fatal(fe)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	ev, fe := Parse([]byte(benchInvoice), testNow, fixedID)
	if fe != nil {
		b.Fatal(fe)
	}
	data, _ := Marshal(ev)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitBatch(b *testing.B) {
	lines := strings.Repeat(benchClick+"\n", 1000)
	array := "[" + strings.TrimSuffix(strings.Repeat(benchClick+",", 1000), ",") + "]"
	for _, bc := range []struct{ name, body string }{
		{"ndjson", lines},
		{"array", array},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := SplitBatch(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
