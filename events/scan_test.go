package events

import "testing"

func TestScannerStr(t *testing.T) {
	tests := []struct {
		name       string
		in         string // a JSON string literal and what follows it
		want       string
		wantReason string
	}{
		{"plain", `"abc"`, "abc", ""},
		{"escapes", `"\"\\\/"`, `"\/`, ""},
		{"escape then UTF-8", `"\u0041é日"`, "Aé日", ""},
		{"pair", `"\uD83D\uDE00"`, "😀", ""},
		{"upper hex", `"\u00E9"`, "é", ""},
		{"tab", `"a\tb"`, "", reasonControl},
		{"backspace", `"\b"`, "", reasonControl},
		{"form feed", `"\f"`, "", reasonControl},
		{"carriage return", `"\r"`, "", reasonControl},
		{"escaped NUL", `"\u0000"`, "", reasonControl},
		{"raw control after escape", "\"\\n\x01\"", "", reasonControl},
		{"raw DEL after escape", "\"\\/\x7f\"", "", reasonControl},
		{"raw C1", "\"\xc2\x85\"", "", reasonControl},
		{"bad UTF-8 after escape", "\"\\/\xff\"", "", reasonUTF8},
		{"C1 after escape", "\"\\/\xc2\x85\"", "", reasonControl},
		{"low surrogate alone", `"\udc00"`, "", reasonSurrogate},
		{"high then letter", `"\ud800x"`, "", reasonSurrogate},
		{"high then high", `"\ud800\ud800"`, "", reasonSurrogate},
		{"high then bad hex", `"\ud800\uzzzz"`, "", reasonEscape},
		{"short hex", `"\u12"`, "", reasonEscape},
		{"bad hex", `"\u12g4"`, "", reasonEscape},
		{"unknown escape", `"\a"`, "", reasonEscape},
		{"backslash at end", `"\`, "", reasonUnfinished},
		{"unterminated after escape", `"\/x`, "", reasonUnfinished},
		{"unterminated", `"abc`, "", reasonUnfinished},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := scanner{src: tc.in}
			got, reason := s.str()
			if reason != tc.wantReason {
				t.Fatalf("str(%q) reason: got %q, want %q", tc.in, reason, tc.wantReason)
			}
			if got != tc.want {
				t.Errorf("str(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScannerNumber(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"0", "0", true},
		{"-12.5e+3,", "-12.5e+3", true},
		{"1E-2}", "1E-2", true},
		{"01", "0", true}, // the caller rejects what follows
		{"-", "", false},
		{"1.", "", false},
		{"1e", "", false},
		{"1e+", "", false},
		{".5", "", false},
	}
	for _, tc := range tests {
		s := scanner{src: tc.in}
		got, ok := s.number()
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("number(%q): got %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
