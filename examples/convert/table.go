package convert

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// table reads a CSV file whose first line names its columns.
type table struct {
	r    *csv.Reader
	cols map[string]int
}

// openTable reads the header and checks that it names every column needed.
// Lines may end in LF or CRLF.
func openTable(in io.Reader, needed []string) (*table, error) {
	r := csv.NewReader(in)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	cols := make(map[string]int, len(header))
	for i, name := range header {
		cols[strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))] = i
	}
	for _, name := range needed {
		if _, ok := cols[name]; !ok {
			return nil, fmt.Errorf("header: %w %q", ErrMissingColumn, name)
		}
	}
	return &table{r: r, cols: cols}, nil
}

// next returns the next row, or an error that ends the reading: io.EOF at
// the end. A row whose fields cannot be split (bad quoting, a wrong number
// of fields) comes back with its [*csv.ParseError] in row.err instead, and
// reading may go on after it.
func (t *table) next() (row, error) {
	rec, err := t.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return row{line: pe.StartLine, err: err}, nil
	case err != nil:
		return row{}, err
	}
	line, _ := t.r.FieldPos(0)
	return row{line: line, rec: rec, cols: t.cols}, nil
}

// row is one data record of a table.
type row struct {
	line int
	rec  []string
	cols map[string]int
	err  error // why the fields could not be split, if they could not
}

// text returns the trimmed field of the named column, which openTable
// checked, in a record that has the header's number of fields.
func (r row) text(col string) string { return strings.TrimSpace(r.rec[r.cols[col]]) }

// required returns the field of col, or an error when it is empty.
func (r row) required(col string) (string, error) {
	s := r.text(col)
	if s == "" {
		return "", fmt.Errorf("column %s: empty", col)
	}
	return s, nil
}

// count returns the field of col as a whole number of at least zero.
func (r row) count(col string) (int64, error) {
	n, err := strconv.ParseInt(r.text(col), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("column %s: %q is not a whole number >= 0", col, r.text(col))
	}
	return n, nil
}
