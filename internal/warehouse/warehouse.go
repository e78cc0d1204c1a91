// Package warehouse is the one door to ClickHouse. Its Conn interface has two
// adapters with identical SQL: chdb (the ClickHouse engine in-process, the
// embedded default) and chserver (clickhouse-go/v2 against a server or
// cluster). Callers write plain ClickHouse SQL with server-side parameters
// ({name:Type}) and fully qualified table names; they never splice values.
package warehouse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Params binds the {name:Type} placeholders of a statement. Values are sent
// as text and typed by the engine from the placeholder, so nothing a caller
// passes here can change the statement's shape. A value is the text itself:
// adapters pass it through ParamText, so a backslash or tab in a String
// value matches the same bytes in a column.
type Params map[string]string

// paramEscaper writes a value in ClickHouse's escaped text format, the
// format the engine parses query parameters in: unescaped, a backslash
// would start an escape sequence (a filter of `a\tb` would match a tab) and
// a tab or newline would end the value early.
var paramEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

// ParamText is the wire text of one parameter value. Array and tuple
// values written as literals ("['a','b']") pass through unchanged as long
// as their elements hold no backslash or control character.
func ParamText(v string) string { return paramEscaper.Replace(v) }

// Column names one column of an insert and its ClickHouse type.
type Column struct {
	Name string
	Type string
}

// Result is a fully read query answer. Values are normalised so that both
// adapters return the same Go types for the same SQL:
//
//	Int*, UInt*            int64 (UInt64 above MaxInt64 is an error)
//	Float*                 float64 (NaN and Inf kept)
//	Decimal*               string, the exact decimal text
//	String, UUID, Date,
//	Enum, LowCardinality   string
//	DateTime, DateTime64   time.Time in UTC
//	Nullable(T)            nil or T
//	Array(T)               []any of the above
type Result struct {
	Columns []Column
	Rows    [][]any
}

// Conn runs statements against one ClickHouse. Implementations are safe for
// concurrent use; the embedded engine serialises statements internally.
type Conn interface {
	// Exec runs a statement that returns no rows (DDL, INSERT ... SELECT).
	Exec(ctx context.Context, query string, params Params) error
	// Query runs a SELECT and reads the whole answer.
	Query(ctx context.Context, query string, params Params) (*Result, error)
	// Insert appends rows to a table. Each row holds one value per column, of
	// the Go type Insert accepts for that column type (see Encode).
	// An insert is atomic per partition only, as in ClickHouse itself.
	Insert(ctx context.Context, table string, cols []Column, rows [][]any) error
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// Backend names the adapter ("chdb" or "clickhouse") for logs and metrics.
	Backend() string
	// Close releases the connection.
	Close() error
}

// ErrClosed is returned by every method of a Conn after Close.
var ErrClosed = errors.New("warehouse: connection closed")

// Error is a failure reported by the ClickHouse engine itself. Code is the
// ClickHouse exception code where the adapter can tell it, or 0.
type Error struct {
	Code    int32
	Message string
	Query   string // the statement, shortened, for logs
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("clickhouse: code %d: %s", e.Code, e.Message)
	}
	return "clickhouse: " + e.Message
}

var codeRe = regexp.MustCompile(`Code: (\d+)\.`)

// ParseCode extracts the exception code from an engine message such as
// "Code: 60. DB::Exception: Table x doesn't exist", or returns 0.
func ParseCode(msg string) int32 {
	m := codeRe.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	var c int32
	fmt.Sscanf(m[1], "%d", &c)
	return c
}

// Exception codes callers branch on.
const (
	CodeUnknownTable    int32 = 60
	CodeUnknownDatabase int32 = 81
	CodeSyntaxError     int32 = 62
)

// IsCode reports whether err is an engine Error with the given code.
func IsCode(err error, code int32) bool {
	var we *Error
	return errors.As(err, &we) && we.Code == code
}

// Clip shortens a statement for error messages and logs.
func Clip(q string) string {
	const max = 200
	if len(q) <= max {
		return q
	}
	return q[:max] + "..."
}

// FormatTime renders t as a DateTime64(3) parameter value in UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidIdent reports whether s may be spliced into SQL as an identifier.
func ValidIdent(s string) bool { return identRe.MatchString(s) }

// InsertStatement builds "INSERT INTO db.table (`a`, `b`)" after checking
// every identifier, for adapters that stream data after the statement.
func InsertStatement(table string, cols []Column) (string, error) {
	db, name, ok := strings.Cut(table, ".")
	if !ok || !ValidIdent(db) || !ValidIdent(name) {
		return "", fmt.Errorf("warehouse: table %q is not a valid db.table name", table)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO `%s`.`%s` (", db, name)
	for i, c := range cols {
		if !ValidIdent(c.Name) {
			return "", fmt.Errorf("warehouse: column %q is not a valid name", c.Name)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s`", c.Name)
	}
	b.WriteString(")")
	return b.String(), nil
}

// RowBinaryInserter is implemented by adapters that take pre-encoded
// RowBinary rows; writers on a hot path use it to skip boxing values.
type RowBinaryInserter interface {
	// InsertRowBinary streams data into stmt, an INSERT with an explicit
	// column list and no FORMAT clause.
	InsertRowBinary(ctx context.Context, stmt string, data []byte) error
}
