package scorefile

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/internal/durable"
)

// Writer writes rows to a score file. Rows are buffered until Flush; callers flush after every
// batch so that an interrupted run keeps the rows it has scored. A Writer is not safe for
// concurrent use.
type Writer struct {
	out     durable.File // the first write error sticks: later calls return it
	columns []string
	seen    map[int]bool
	buf     []byte
}

// Create creates (or truncates) the file at path and writes its header: "index" and then the
// score columns. The Writer holds an exclusive lock on the file until Close: if another Writer
// holds it, the file is left as it is and the error wraps ErrBusy.
func Create(path string, columns []string) (*Writer, error) {
	if err := checkColumns(columns); err != nil {
		return nil, fmt.Errorf("scores %s: %v", path, err)
	}
	f, err := openLocked(path)
	if err != nil {
		return nil, err
	}
	w := newWriter(path, columns, f)
	if err := truncate(f, path, 0); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.writeHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Append opens the score file at path to add rows, for resuming an interrupted run; it creates the
// file if it does not exist. The existing header must name exactly columns. A last line without
// a newline, left by a crash in the middle of a write, is cut off; any other malformed line is an
// error. Has reports which indices the file already holds. Like Create, the Writer holds an
// exclusive lock on the file until Close, so two runs never append to one file together.
func Append(path string, columns []string) (*Writer, error) {
	if err := checkColumns(columns); err != nil {
		return nil, fmt.Errorf("scores %s: %v", path, err)
	}
	f, err := openLocked(path)
	if err != nil {
		return nil, err
	}
	w, err := resume(path, columns, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// openLocked opens (creating) the file at path for reading and writing, locked, and unchanged.
func openLocked(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("scores %s: %w", path, err)
	}
	return f, nil
}

func resume(path string, columns []string, f *os.File) (*Writer, error) {
	file, complete, err := parse(path, f, true)
	if err != nil {
		return nil, err
	}
	w := newWriter(path, columns, f)
	if file == nil {
		// No complete header: a new file, or a crash while writing the header.
		if err := w.checkHeaderPrefix(); err != nil {
			return nil, err
		}
		if err := truncate(f, path, 0); err != nil {
			return nil, err
		}
		return w, w.writeHeader()
	}
	if !slices.Equal(file.Columns, columns) {
		return nil, fmt.Errorf("scores %s: columns index,%s, want index,%s", path, strings.Join(file.Columns, ","), strings.Join(columns, ","))
	}
	if err := truncate(f, path, complete); err != nil {
		return nil, err
	}
	for _, i := range file.Index {
		w.seen[i] = true
	}
	return w, nil
}

// checkHeaderPrefix accepts a file that holds at most the beginning of the expected header line.
func (w *Writer) checkHeaderPrefix() error {
	if _, err := w.out.F.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("scores %s: %w", w.out.Path, durable.UnwrapPath(err))
	}
	header := w.header()
	got, err := io.ReadAll(io.LimitReader(w.out.F, int64(len(header))+1))
	if err != nil {
		return fmt.Errorf("scores %s: %w", w.out.Path, durable.UnwrapPath(err))
	}
	if !strings.HasPrefix(header, string(got)) {
		return fmt.Errorf("scores %s: starts with %s, not a header line %s", w.out.Path, quote(string(got)), quote(strings.TrimSuffix(header, "\n")))
	}
	return nil
}

// truncate cuts f to size bytes and positions writes at its end.
func truncate(f *os.File, path string, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		return fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	return nil
}

func newWriter(path string, columns []string, f *os.File) *Writer {
	return &Writer{out: durable.New(path, f), columns: slices.Clone(columns), seen: make(map[int]bool)}
}

func (w *Writer) header() string {
	return "index," + strings.Join(w.columns, ",") + "\n"
}

// writeHeader writes and flushes the header, so that a new file is valid at once.
func (w *Writer) writeHeader() error {
	if _, err := w.out.W.WriteString(w.header()); err != nil {
		return w.out.Fail(err)
	}
	return w.Flush()
}

// Columns returns the score column names.
func (w *Writer) Columns() []string { return slices.Clone(w.columns) }

// Has reports whether the file already holds a row for index, written by this Writer or, after
// Append, found in the file.
func (w *Writer) Has(index int) bool { return w.seen[index] }

// Len returns the number of rows in the file, including those not yet flushed.
func (w *Writer) Len() int { return len(w.seen) }

// Write adds the row for image index with one value per column. Writing an index twice is an
// error.
func (w *Writer) Write(index int, values []float64) error {
	if w.out.Err() != nil {
		return w.out.Err()
	}
	if len(values) != len(w.columns) {
		return fmt.Errorf("scores %s: row %d has %d values for %d columns", w.out.Path, index, len(values), len(w.columns))
	}
	if index < 0 || index > 999_999_999_999_999_999 {
		return fmt.Errorf("scores %s: index %d out of range", w.out.Path, index)
	}
	if w.seen[index] {
		return fmt.Errorf("scores %s: duplicate index %d", w.out.Path, index)
	}
	w.buf = appendRow(w.buf[:0], index, values)
	if _, err := w.out.W.Write(w.buf); err != nil {
		return w.out.Fail(err)
	}
	w.seen[index] = true
	return nil
}

// appendRow appends the line of a row to b.
func appendRow(b []byte, index int, values []float64) []byte {
	b = strconv.AppendInt(b, int64(index), 10)
	for _, v := range values {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

// Flush writes the buffered rows to the file.
func (w *Writer) Flush() error { return w.out.Flush() }

// Close flushes the buffered rows, commits the file to stable storage and closes it.
func (w *Writer) Close() error { return w.out.Close() }
