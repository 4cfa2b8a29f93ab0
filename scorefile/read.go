package scorefile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/internal/durable"
)

// File is the content of a score file.
type File struct {
	Columns []string    // the score columns, without "index", in file order
	Index   []int       // Index[r] is the image index of row r
	Values  [][]float64 // Values[c][r] is the value of column Columns[c] in row r

	name string // for error messages
}

// Len returns the number of rows.
func (f *File) Len() int { return len(f.Index) }

// Column returns the values of the named column, one per row in file order. The slice is the
// File's own, not a copy. The error lists the available columns.
func (f *File) Column(name string) ([]float64, error) {
	for c, n := range f.Columns {
		if n == name {
			return f.Values[c], nil
		}
	}
	return nil, fmt.Errorf("scores %s: no column %q (have %s)", f.name, name, strings.Join(f.Columns, ", "))
}

// Read reads a complete score file. Every malformed line, a duplicate index and a file not ending
// in a newline are errors.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	defer f.Close()
	file, _, err := parse(path, f, false)
	return file, err
}

// parse reads a score file from r; name is used in errors. With partial, a last line without a
// newline is ignored instead of being an error; complete is then the number of bytes up to the
// end of the last complete line. A file without a complete header line is an error (errNoHeader)
// unless partial is set, in which case parse returns a nil File.
func parse(name string, r io.Reader, partial bool) (file *File, complete int64, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	lineNo := 0
	var first map[int]int // index → line number where it appeared
	for {
		line, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for rerr == bufio.ErrBufferFull {
				line, rerr = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if rerr != nil && rerr != io.EOF {
			return nil, 0, fmt.Errorf("scores %s: %w", name, rerr)
		}
		if len(line) == 0 && rerr == io.EOF {
			break
		}
		lineNo++
		if line[len(line)-1] != '\n' { // the last line, cut short
			if partial {
				break
			}
			if lineNo == 1 {
				return nil, 0, fmt.Errorf("scores %s:1: header line has no newline: the file was cut short", name)
			}
			return nil, 0, fmt.Errorf("scores %s:%d: last line has no newline: the file was cut short", name, lineNo)
		}
		text := line[:len(line)-1]
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		if lineNo == 1 {
			cols, err := parseHeader(text)
			if err != nil {
				return nil, 0, fmt.Errorf("scores %s:1: %v", name, err)
			}
			file = &File{Columns: cols, Values: make([][]float64, len(cols)), name: name}
			first = make(map[int]int)
		} else if err := file.parseRow(text, lineNo, first); err != nil {
			return nil, 0, err
		}
		complete += int64(len(line))
		if rerr == io.EOF {
			break
		}
	}
	if file == nil && !partial {
		return nil, 0, fmt.Errorf("scores %s: %w", name, errNoHeader)
	}
	return file, complete, nil
}

var errNoHeader = errors.New(`empty file: want a header line "index,<column>,…"`)

// parseHeader returns the score column names of a header line.
func parseHeader(text []byte) ([]string, error) {
	text = bytes.TrimPrefix(text, []byte("\ufeff")) // a byte order mark, as spreadsheets write
	fields := strings.Split(string(text), ",")
	if fields[0] != "index" {
		return nil, fmt.Errorf("header starts with %s, want index", quote(fields[0]))
	}
	cols := fields[1:]
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

// checkColumns validates score column names.
func checkColumns(cols []string) error {
	if len(cols) == 0 {
		return errors.New("no score columns")
	}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		switch {
		case c == "":
			return fmt.Errorf("score column %d has an empty name", i+1)
		case c == "index":
			return errors.New(`score column named "index"`)
		case strings.ContainsAny(c, ",\"\r\n"):
			return fmt.Errorf("column name %s contains a comma, quote or line break", quote(c))
		case seen[c]:
			return fmt.Errorf("duplicate column name %s", quote(c))
		}
		seen[c] = true
	}
	return nil
}

// parseRow appends the row in text (line lineNo) to f.
func (f *File) parseRow(text []byte, lineNo int, first map[int]int) error {
	if len(text) == 0 {
		return fmt.Errorf("scores %s:%d: empty line", f.name, lineNo)
	}
	if n := bytes.Count(text, []byte{','}) + 1; n != len(f.Columns)+1 {
		return fmt.Errorf("scores %s:%d: %d fields, want %d (index,%s)", f.name, lineNo, n, len(f.Columns)+1, strings.Join(f.Columns, ","))
	}
	field, rest, _ := bytes.Cut(text, []byte{','})
	index, ok := parseIndex(field)
	if !ok {
		return fmt.Errorf("scores %s:%d: malformed index %s", f.name, lineNo, quote(string(field)))
	}
	if l, dup := first[index]; dup {
		return fmt.Errorf("scores %s:%d: duplicate index %d (first on line %d)", f.name, lineNo, index, l)
	}
	first[index] = lineNo
	for c := range f.Columns {
		field, rest, _ = bytes.Cut(rest, []byte{','})
		v, err := strconv.ParseFloat(string(field), 64)
		if err != nil {
			problem := "malformed value"
			if errors.Is(err, strconv.ErrRange) {
				problem = "value out of float64 range"
			}
			return fmt.Errorf("scores %s:%d: %s %s in column %s", f.name, lineNo, problem, quote(string(field)), f.Columns[c])
		}
		f.Values[c] = append(f.Values[c], v)
	}
	f.Index = append(f.Index, index)
	return nil
}

// parseIndex parses a non-negative decimal integer of at most 18 digits (so it cannot overflow).
func parseIndex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = 10*n + int(c-'0')
	}
	return n, true
}

// quote quotes s for an error message, shortened so that the message stays one short line.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
