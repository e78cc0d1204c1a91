package events

import "testing"

func TestIsCurrency(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"USD", true}, {"EUR", true}, {"GBP", true}, {"JPY", true}, {"CHF", true},
		{"CAD", true}, {"AUD", true}, {"INR", true}, {"BRL", true}, {"XCG", true},
		{"ZWG", true}, {"SLE", true}, {"HRK", true}, {"BGN", true},
		{"usd", false}, {"Usd", false}, {"US", false}, {"USDD", false}, {"", false},
		{"XTS", false}, {"XXX", false}, {"ABC", false}, {"VEF", false}, {"DEM", false},
		{"U$D", false}, {"ÜSD", false},
	}
	for _, tc := range tests {
		if got := IsCurrency(tc.code); got != tc.want {
			t.Errorf("IsCurrency(%q): got %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestCurrencies(t *testing.T) {
	codes := Currencies()
	if got, want := len(codes), 150; got < want {
		t.Errorf("Currencies: got %d codes, want at least %d", got, want)
	}
	for i, c := range codes {
		if !IsCurrency(c) {
			t.Errorf("Currencies()[%d] = %q is not IsCurrency", i, c)
		}
		if i > 0 && codes[i-1] >= c {
			t.Errorf("Currencies not sorted at %d: %q then %q", i, codes[i-1], c)
		}
	}
}

func TestTypes(t *testing.T) {
	types := Types()
	if got, want := len(types), 28; got != want {
		t.Fatalf("Types: got %d, want %d", got, want)
	}
	types[0] = "changed"
	if got, want := Types()[0], TypeImpression; got != want {
		t.Errorf("Types()[0] after caller edit: got %q, want %q", got, want)
	}
	for _, typ := range Types() {
		if !typ.Valid() {
			t.Errorf("%q.Valid(): got false, want true", typ)
		}
	}
	if Type("purchase").Valid() {
		t.Error(`Type("purchase").Valid(): got true, want false`)
	}
}
