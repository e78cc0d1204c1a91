package events

import (
	"strings"
	"unicode/utf8"
)

// Reasons the scanner gives for unacceptable text.
const (
	reasonControl    = "contains a control character"
	reasonUTF8       = "is not valid UTF-8"
	reasonSurrogate  = "has an unpaired UTF-16 surrogate escape"
	reasonEscape     = "has an invalid escape sequence"
	reasonUnfinished = "has an unterminated string"
)

// plainByte marks the ASCII bytes a JSON string may hold as they are: no
// quote, backslash or control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlain returns the index of the first byte at or after i that is not
// a plainByte.
func skipPlain(src string, i int) int {
	for i < len(src) && plainByte[src[i]] {
		i++
	}
	return i
}

// scanner reads the tokens of one flat JSON object from src. It is not a
// general JSON parser: its caller rejects nested objects and arrays instead
// of skipping them.
type scanner struct {
	src string
	pos int
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end of input.
func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// consume advances past c if it is the next byte.
func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.src) && s.src[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// literal advances past word if it comes next.
func (s *scanner) literal(word string) bool {
	if strings.HasPrefix(s.src[s.pos:], word) {
		s.pos += len(word)
		return true
	}
	return false
}

// number reads a JSON number literal and returns its text.
func (s *scanner) number() (string, bool) {
	start := s.pos
	s.consume('-')
	if !s.consume('0') && !s.digits() {
		return "", false
	}
	if s.consume('.') && !s.digits() {
		return "", false
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !s.digits() {
			return "", false
		}
	}
	return s.src[start:s.pos], true
}

// digits advances past a run of digits and reports whether there was one.
func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.src) && s.src[s.pos] >= '0' && s.src[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

// str reads a JSON string whose opening quote is the next byte. It returns
// the decoded text, or a reason why the text is unacceptable: every string
// of the envelope must be valid UTF-8 free of control characters. Strings
// without escapes, the common case, are returned as slices of src.
func (s *scanner) str() (string, string) {
	s.pos++
	start := s.pos
	for s.pos < len(s.src) {
		s.pos = skipPlain(s.src, s.pos)
		if s.pos == len(s.src) {
			break
		}
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.src[start : s.pos-1], ""
		case c == '\\':
			return s.strEscaped(start)
		case c < utf8.RuneSelf:
			if c < 0x20 || c == 0x7f {
				return "", reasonControl
			}
			s.pos++
		default:
			n, reason := s.rune()
			if reason != "" {
				return "", reason
			}
			s.pos += n
		}
	}
	return "", reasonUnfinished
}

// strEscaped continues str once an escape appears, decoding into a copy.
func (s *scanner) strEscaped(start int) (string, string) {
	buf := make([]byte, s.pos-start, s.pos-start+32)
	copy(buf, s.src[start:s.pos])
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			return string(buf), ""
		case c == '\\':
			r, reason := s.escape()
			if reason != "" {
				return "", reason
			}
			if isControl(r) {
				return "", reasonControl
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			if c < 0x20 || c == 0x7f {
				return "", reasonControl
			}
			buf = append(buf, c)
			s.pos++
		default:
			n, reason := s.rune()
			if reason != "" {
				return "", reason
			}
			buf = append(buf, s.src[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
	return "", reasonUnfinished
}

// rune checks the multi-byte UTF-8 sequence at pos and returns its length.
func (s *scanner) rune() (int, string) {
	r, n := utf8.DecodeRuneInString(s.src[s.pos:])
	if r == utf8.RuneError && n == 1 {
		return 0, reasonUTF8
	}
	if isControl(r) {
		return 0, reasonControl
	}
	return n, ""
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f
}

// escape decodes the escape sequence at pos, a backslash.
func (s *scanner) escape() (rune, string) {
	if s.pos+1 >= len(s.src) {
		return 0, reasonUnfinished
	}
	c := s.src[s.pos+1]
	s.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), ""
	case 'b':
		return '\b', ""
	case 'f':
		return '\f', ""
	case 'n':
		return '\n', ""
	case 'r':
		return '\r', ""
	case 't':
		return '\t', ""
	case 'u':
		return s.unicodeEscape()
	}
	return 0, reasonEscape
}

// unicodeEscape decodes the hex digits of \uXXXX, joining surrogate pairs.
func (s *scanner) unicodeEscape() (rune, string) {
	r, ok := s.hex4()
	if !ok {
		return 0, reasonEscape
	}
	if r < 0xd800 || r > 0xdfff {
		return r, ""
	}
	if r >= 0xdc00 || !s.literal(`\u`) {
		return 0, reasonSurrogate
	}
	lo, ok := s.hex4()
	if !ok {
		return 0, reasonEscape
	}
	if lo < 0xdc00 || lo > 0xdfff {
		return 0, reasonSurrogate
	}
	return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), ""
}

// hex4 reads four hex digits.
func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s.src[s.pos : s.pos+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}
