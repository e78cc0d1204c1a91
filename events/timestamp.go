package events

import "time"

// reasonTime explains the accepted timestamp form.
const reasonTime = "must be an RFC 3339 timestamp with offset, " +
	"such as 2024-03-31T02:30:00+02:00 or 2024-03-31T00:30:00.123Z"

// parseTime parses an RFC 3339 date-time: date, 'T', time with optional
// fractional seconds (beyond nanoseconds ignored), then 'Z' or a ±hh:mm
// offset. As RFC 3339 allows, 't' and 'z' may be lower case. It rejects
// impossible dates such as February 30 and leap seconds. The result is in
// UTC, truncated to the millisecond.
func parseTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' ||
		s[10] != 'T' && s[10] != 't' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4], 0, 9999)
	month, ok2 := num(s[5:7], 1, 12)
	day, ok3 := num(s[8:10], 1, 31)
	hour, ok4 := num(s[11:13], 0, 23)
	minute, ok5 := num(s[14:16], 0, 59)
	sec, ok6 := num(s[17:19], 0, 59)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	nsec, rest := fraction(s[19:])
	offset, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-offset).Truncate(time.Millisecond), true
}

// fraction parses optional fractional seconds and returns the rest of s.
func fraction(s string) (int, string) {
	if len(s) < 2 || s[0] != '.' || s[1] < '0' || s[1] > '9' {
		return 0, s
	}
	nsec, scale := 0, int(time.Second)
	i := 1
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if scale > 1 {
			scale /= 10
			nsec += int(s[i]-'0') * scale
		}
	}
	return nsec, s[i:]
}

// zoneOffset parses "Z" or "±hh:mm", which must make up all of s.
func zoneOffset(s string) (time.Duration, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) != len("+07:00") || s[0] != '+' && s[0] != '-' || s[3] != ':' {
		return 0, false
	}
	h, ok1 := num(s[1:3], 0, 23)
	m, ok2 := num(s[4:6], 0, 59)
	if !ok1 || !ok2 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if s[0] == '-' {
		d = -d
	}
	return d, true
}

// num parses a fixed-width decimal field within [lo, hi].
func num(s string, lo, hi int) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= lo && n <= hi
}

// daysIn returns the number of days in month m of year y.
func daysIn(m time.Month, y int) int {
	if m == time.February {
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)%2) // 31 days in odd months to July, even from August
}

// appendTime appends t in UTC as 2006-01-02T15:04:05.000Z: exactly three
// fractional digits, so the text sorts like the time. Years outside
// 0..9999 fall back to the time package's format.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/int(time.Millisecond), 3)
	return append(b, 'Z')
}

// appendDigits appends n, which must be non-negative, zero-padded to width.
func appendDigits(b []byte, n, width int) []byte {
	var buf [4]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[:width]...)
}
