package convert

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// Main is the body of the example commands. It converts the CSV file named
// by args[0], or the dataset file when args is empty (see [Dataset]), and
// writes NDJSON to stdout. Malformed rows and a summary go to stderr; they
// do not make Main fail.
func Main(args []string, dataset string, conv Func, stdout, stderr io.Writer) error {
	path, err := inputPath(args, dataset)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(stdout)
	st, err := conv(f, w, func(e *RowError) { fmt.Fprintf(stderr, "%s: %v\n", path, e) })
	if err != nil {
		return fmt.Errorf("convert %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	fmt.Fprintf(stderr, "%s: %d rows, %d events written, %d empty events left out, "+
		"%d malformed rows\n", path, st.Rows, st.Events, st.Skipped, st.Malformed)
	return nil
}

// inputPath returns the file named in args, or the dataset's path.
func inputPath(args []string, dataset string) (string, error) {
	switch len(args) {
	case 0:
		return Dataset(dataset)
	case 1:
		return args[0], nil
	}
	return "", errors.New("at most one CSV file expected")
}
