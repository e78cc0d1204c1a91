package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/ingest"
)

// record is one event read from an input file, or the reason its line could
// not become one.
type record struct {
	line int
	data []byte
	err  error
}

// importer posts records in batches, resending a batch on 503 (ids make the
// resend safe) and reporting every rejected event by its line in the file.
type importer struct {
	url, key             string
	client               *http.Client
	accepted, duplicates int
	rejected             []string
}

func (im *importer) run(ctx context.Context, recs iter.Seq[record], batch int) error {
	var buf bytes.Buffer
	var lines []int
	for r := range recs {
		if r.err != nil {
			im.rejected = append(im.rejected, fmt.Sprintf("line %d: %v", r.line, r.err))
			continue
		}
		buf.Write(r.data)
		buf.WriteByte('\n')
		if lines = append(lines, r.line); len(lines) == batch {
			if err := im.send(ctx, buf.Bytes(), lines); err != nil {
				return err
			}
			buf.Reset()
			lines = lines[:0]
		}
	}
	if len(lines) > 0 {
		return im.send(ctx, buf.Bytes(), lines)
	}
	return nil
}

func (im *importer) send(ctx context.Context, body []byte, lines []int) error {
	for attempt := 0; ; attempt++ {
		out, status, err := im.post(ctx, body)
		if err != nil {
			return fmt.Errorf("batch at line %d: %w", lines[0], err)
		}
		if status == http.StatusServiceUnavailable && attempt < 30 {
			body = withIDs(body, out.IDs)
			time.Sleep(time.Second)
			continue
		}
		for _, r := range out.Rejected {
			line := lines[0]
			if r.Index >= 0 && r.Index < len(lines) {
				line = lines[r.Index]
			}
			im.rejected = append(im.rejected, fmt.Sprintf("line %d: %s: %s", line, r.Field, r.Reason))
		}
		if status != http.StatusAccepted && status != http.StatusBadRequest {
			return fmt.Errorf("batch at line %d: status %d: %s", lines[0], status, out.Error)
		}
		im.accepted += out.Accepted
		im.duplicates += out.Duplicates
		return nil
	}
}

func (im *importer) post(ctx context.Context, body []byte) (ingest.Response, int, error) {
	var out ingest.Response
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, im.url, bytes.NewReader(body))
	if err != nil {
		return out, 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	authorize(req, im.key)
	resp, err := im.client.Do(req)
	if err != nil {
		return out, 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, resp.StatusCode, fmt.Errorf("status %s: %w", resp.Status, err)
	}
	return out, resp.StatusCode, nil
}

// readNDJSON yields each non-blank line of r as an event.
func readNDJSON(r io.Reader) iter.Seq[record] {
	return func(yield func(record) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			if !yield(record{line: line, data: bytes.Clone(sc.Bytes())}) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(record{line: line + 1, err: err})
		}
	}
}

// numericFields are the event fields whose CSV cells must hold a number: a
// malformed cell is a bad row, reported with its line. A blank count on an
// ad event is one too, rather than silently counting 1; other blank cells
// leave the field out, and the server says if the type requires it.
var numericFields = map[string]func(string) error{
	"count": func(s string) error {
		_, err := strconv.ParseInt(s, 10, 64)
		return err
	},
	"value":  func(s string) error { _, err := events.ParseMicros(s); return err },
	"amount": func(s string) error { _, err := events.ParseMicros(s); return err },
}

// readCSV yields one event per data row of a CSV file whose header names
// event fields. Blank cells are left out, except in numeric columns.
func readCSV(r io.Reader) iter.Seq[record] {
	return func(yield func(record) bool) {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if err != nil {
			yield(record{line: 1, err: fmt.Errorf("header: %w", err)})
			return
		}
		for i := range header {
			header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
		}
		for {
			row, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var rec record
			var perr *csv.ParseError
			switch {
			case errors.As(err, &perr):
				rec.line, rec.err = perr.Line, perr.Err
			case err != nil:
				rec.err = err
			default:
				// FieldPos is only defined after a successful Read.
				rec.line, _ = cr.FieldPos(0)
				rec.data, rec.err = csvEvent(header, row)
			}
			if !yield(rec) {
				return
			}
		}
	}
}

func csvEvent(header, row []string) ([]byte, error) {
	if len(row) != len(header) {
		return nil, fmt.Errorf("%d cells for %d columns", len(row), len(header))
	}
	obj := make(map[string]any, len(row))
	for i, cell := range row {
		name, cell := header[i], strings.TrimSpace(cell)
		check, numeric := numericFields[name]
		switch {
		case numeric && cell == "" && name == "count" && countedTypes[cellOf(header, row, "type")]:
			return nil, fmt.Errorf("%s: blank; a number is required", name)
		case numeric && cell == "":
		case numeric:
			if err := check(cell); err != nil {
				return nil, fmt.Errorf("%s: %q is not a valid number: %w", name, cell, err)
			}
			obj[name] = json.Number(cell)
		case cell != "":
			obj[name] = cell
		}
	}
	return json.Marshal(obj)
}

// countedTypes are the event types that carry a count.
var countedTypes = map[string]bool{"impression": true, "click": true, "conversion": true,
	"cost": true, "signup": true}

func cellOf(header, row []string, name string) string {
	for i, h := range header {
		if h == name && i < len(row) {
			return strings.TrimSpace(row[i])
		}
	}
	return ""
}
