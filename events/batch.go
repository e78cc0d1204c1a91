package events

import (
	"bytes"
	"fmt"
)

// reasonNotObject is given for batch entries that cannot be an event.
const reasonNotObject = "must be a JSON object"

// SplitBatch splits a request body into raw event objects, ready for
// [Parse]. The returned slices share memory with body.
//
// A body whose first non-space byte is '[' is a JSON array of objects.
// Its structure (brackets, strings, commas) is checked here, and a fault
// rejects the whole body with an error wrapping [ErrMalformedBatch]; the
// tokens inside each object are left for Parse, so one garbled object
// costs only its own index.
//
// Any other body is NDJSON: one object per line, blank lines ignored,
// CRLF line ends tolerated. A line that is not an object is rejected alone.
//
// An entry that is not an object gets a nil raw and a [FieldError] with its
// index and an empty Field; indexes count entries, not lines, so they match
// raws. A body without entries returns [ErrEmptyBatch]. A leading UTF-8
// byte order mark is ignored.
func SplitBatch(body []byte) (raws [][]byte, errs []FieldError, err error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	i := skipSpace(body, 0)
	switch {
	case i == len(body):
		return nil, nil, ErrEmptyBatch
	case body[i] == '[':
		return splitArray(body, i+1)
	}
	return splitLines(body)
}

func splitLines(body []byte) ([][]byte, []FieldError, error) {
	raws := make([][]byte, 0, bytes.Count(body, []byte{'\n'})+1)
	var errs []FieldError
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' || line[len(line)-1] != '}' {
			errs = append(errs, FieldError{Index: len(raws), Reason: reasonNotObject +
				" on one line"})
			line = nil
		}
		raws = append(raws, line)
	}
	if len(raws) == 0 {
		return nil, nil, ErrEmptyBatch
	}
	return raws, errs, nil
}

// splitArray splits the elements of the array whose '[' ends at i.
func splitArray(body []byte, i int) ([][]byte, []FieldError, error) {
	var raws [][]byte
	var errs []FieldError
	i = skipSpace(body, i)
	if i < len(body) && body[i] == ']' {
		if end := skipSpace(body, i+1); end != len(body) {
			return nil, nil, malformed(end, "unexpected data after the array")
		}
		return nil, nil, ErrEmptyBatch
	}
	for {
		end, reason := skipValue(body, i)
		if reason != "" {
			return nil, nil, malformed(i, reason)
		}
		if body[i] == '{' {
			raws = append(raws, body[i:end])
		} else {
			errs = append(errs, FieldError{Index: len(raws), Reason: reasonNotObject})
			raws = append(raws, nil)
		}
		i = skipSpace(body, end)
		switch {
		case i == len(body):
			return nil, nil, malformed(i, "unterminated array")
		case body[i] == ',':
			i = skipSpace(body, i+1)
		case body[i] == ']':
			if end := skipSpace(body, i+1); end != len(body) {
				return nil, nil, malformed(end, "unexpected data after the array")
			}
			return raws, errs, nil
		default:
			return nil, nil, malformed(i, "expected ',' or ']'")
		}
	}
}

func malformed(pos int, reason string) error {
	return fmt.Errorf("split batch: %w at byte %d: %s", ErrMalformedBatch, pos, reason)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i, checking only
// its structure, or a reason it has none.
func skipValue(b []byte, i int) (int, string) {
	if i == len(b) {
		return 0, "unterminated array"
	}
	switch b[i] {
	case '"':
		end, ok := skipString(b, i)
		if !ok {
			return 0, "unterminated string"
		}
		return end, ""
	case '{', '[':
		return skipNested(b, i)
	case ',', ']', '}', ':':
		return 0, "expected a value"
	}
	end := i
	for end < len(b) && isScalarByte(b[end]) {
		end++
	}
	if end == i {
		return 0, "expected a value"
	}
	return end, ""
}

// isScalarByte reports bytes that may appear in numbers, true, false, null
// and the garbage Parse will reject in their place.
func isScalarByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '"', '[', ']', '{', '}':
		return false
	}
	return true
}

// maxNesting bounds the depth skipNested tracks. Events are flat, so any
// real nesting is an error Parse reports; the bound only stops abuse.
const maxNesting = 64

// skipNested returns the end of the object or array starting at i, checking
// that brackets match outside strings.
func skipNested(b []byte, i int) (int, string) {
	var stack uint64 // bit set for '{', clear for '['
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			end, ok := skipString(b, i)
			if !ok {
				return 0, "unterminated string"
			}
			i = end
			continue
		case '{', '[':
			if depth == maxNesting {
				return 0, "nested too deeply"
			}
			stack = stack<<1 | boolBit(c == '{')
			depth++
		case '}', ']':
			if stack&1 != boolBit(c == '}') {
				return 0, "mismatched brackets"
			}
			stack >>= 1
			depth--
			if depth == 0 {
				return i + 1, ""
			}
		}
		i++
	}
	return 0, "unterminated object"
}

func boolBit(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// skipString returns the end of the string whose opening quote is at i.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}
