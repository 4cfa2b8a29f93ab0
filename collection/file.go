package collection

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/internal/durable"
)

// Format is the layout of a score file.
type Format int

const (
	CSV   Format = iota // comma-separated values after a "# odin-score" metadata line
	JSONL               // JSON Lines after an {"odin_score": …} metadata line
)

// ParseFormat parses "csv" or "jsonl".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "csv":
		return CSV, nil
	case "jsonl":
		return JSONL, nil
	}
	return 0, fmt.Errorf("format %q: want csv or jsonl", s)
}

func (f Format) String() string {
	if f == JSONL {
		return "jsonl"
	}
	return "csv"
}

// FormatVersion is the version of the score file layout written in Meta.Format.
const FormatVersion = 1

// Meta identifies the run that made a score file. Two shards of one job have equal metadata
// except Shard and Count.
type Meta struct {
	Format     int    `json:"format"`
	Network    string `json:"network"`
	Checkpoint string `json:"checkpoint"` // "sha256:<hex>" of the checkpoint file
	Kernel     string `json:"kernel"`     // the matrix kernel, which decides the last bits of scores
	// Methods are the score columns, in order.
	Methods []string `json:"methods"`
	// Params holds every other setting the scores depend on (temperature, magnitude, resize,
	// statistics file, …), as text.
	Params map[string]string `json:"params,omitempty"`
	// Threshold is δ as text when rows carry a decision.
	Threshold string `json:"threshold,omitempty"`
	Shard     string `json:"shard,omitempty"` // "i/n"; empty for a whole collection
	Count     int    `json:"count"`           // images in this file's shard
	Total     int    `json:"total"`           // images in the whole collection
}

// Row is the outcome for one image.
type Row struct {
	Path     string
	Scores   []float64 // one per Meta.Methods; nil when Err is set
	Class    int       // the predicted class; -1 when Err is set
	Decision string    // "in" or "out" with a threshold, else ""
	Err      string    // why the image could not be scored
}

// File is the content of a score file.
type File struct {
	Meta   Meta
	Format Format
	Rows   []Row
}

const csvMark = "# odin-score "

func (m *Meta) json() []byte {
	b, _ := json.Marshal(m)
	return b
}

// header returns the metadata line and, for CSV, the column line.
func header(f Format, m *Meta) []byte {
	if f == JSONL {
		b, _ := json.Marshal(map[string]*Meta{"odin_score": m})
		return append(b, '\n')
	}
	var b bytes.Buffer
	b.WriteString(csvMark)
	b.Write(m.json())
	b.WriteByte('\n')
	b.WriteString(strings.Join(csvColumns(m), ","))
	b.WriteByte('\n')
	return b.Bytes()
}

func csvColumns(m *Meta) []string {
	cols := append([]string{"path"}, m.Methods...)
	cols = append(cols, "class")
	if m.Threshold != "" {
		cols = append(cols, "decision")
	}
	return append(cols, "error")
}

func (m *Meta) check() error {
	if len(m.Methods) == 0 {
		return errors.New("no score columns")
	}
	seen := map[string]bool{}
	for _, c := range m.Methods {
		if c == "" || c == "path" || c == "class" || c == "decision" || c == "error" || strings.ContainsAny(c, ",\"\r\n") || seen[c] {
			return fmt.Errorf("bad or duplicate score column name %q", c)
		}
		seen[c] = true
	}
	return nil
}

// appendRow appends the line of r to b.
func appendRow(b []byte, f Format, m *Meta, r *Row) ([]byte, error) {
	if strings.ContainsAny(r.Path, "\r\n") {
		return b, fmt.Errorf("path %q contains a line break", r.Path)
	}
	if r.Err == "" && len(r.Scores) != len(m.Methods) {
		return b, fmt.Errorf("row %s has %d scores for %d columns", r.Path, len(r.Scores), len(m.Methods))
	}
	errText := strings.NewReplacer("\r", " ", "\n", " ").Replace(r.Err)
	if f == JSONL {
		p, _ := json.Marshal(r.Path)
		b = append(append(b, `{"path":`...), p...)
		if r.Err != "" {
			e, _ := json.Marshal(errText)
			return append(append(append(b, `,"error":`...), e...), "}\n"...), nil
		}
		b = append(b, `,"scores":{`...)
		for i, c := range m.Methods {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(strconv.AppendQuote(b, c), ':')
			b = appendJSONFloat(b, r.Scores[i])
		}
		b = strconv.AppendInt(append(b, `},"class":`...), int64(r.Class), 10)
		if r.Decision != "" {
			b = strconv.AppendQuote(append(b, `,"decision":`...), r.Decision)
		}
		return append(b, "}\n"...), nil
	}
	fields := make([]string, 0, len(m.Methods)+4)
	fields = append(fields, r.Path)
	for i := range m.Methods {
		if r.Err != "" {
			fields = append(fields, "")
		} else {
			fields = append(fields, strconv.FormatFloat(r.Scores[i], 'g', -1, 64))
		}
	}
	if r.Err != "" {
		fields = append(fields, "")
	} else {
		fields = append(fields, strconv.Itoa(r.Class))
	}
	if m.Threshold != "" {
		fields = append(fields, r.Decision)
	}
	fields = append(fields, errText)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(fields)
	w.Flush()
	return append(b, buf.Bytes()...), nil
}

// appendJSONFloat writes v exactly; NaN and ±Inf, which JSON lacks, as strings.
func appendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.AppendQuote(b, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// Read reads a complete score file of either format.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %w", path, durable.UnwrapPath(err))
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("scores %s: last line has no newline: the file was cut short (rerun the command that wrote it)", path)
	}
	f, _, err := parse(path, data)
	return f, err
}

// IsScoreFile reports whether the file at path starts like a score file of this package.
func IsScoreFile(path string) bool {
	file, err := os.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	head := make([]byte, len(`{"odin_score"`))
	n, _ := file.Read(head)
	return bytes.HasPrefix(head[:n], []byte(csvMark)) || bytes.HasPrefix(head[:n], []byte(`{"odin_score"`))
}

// parse reads the complete lines of data; the returned size is the length of those lines, so
// that a resumed writer can cut off a last line without a newline.
func parse(name string, data []byte) (*File, int, error) {
	end := bytes.LastIndexByte(data, '\n') + 1
	data = data[:end]
	line, rest, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return nil, 0, fmt.Errorf("scores %s: no metadata line: not a score file of odin score", name)
	}
	f := &File{}
	switch {
	case bytes.HasPrefix(line, []byte(csvMark)):
		f.Format = CSV
		if err := strictJSON(line[len(csvMark):], &f.Meta); err != nil {
			return nil, 0, fmt.Errorf("scores %s:1: metadata: %v", name, err)
		}
	case bytes.HasPrefix(line, []byte(`{"odin_score"`)):
		f.Format = JSONL
		var w struct {
			M *Meta `json:"odin_score"`
		}
		if err := strictJSON(line, &w); err != nil || w.M == nil {
			return nil, 0, fmt.Errorf("scores %s:1: metadata: %v", name, err)
		}
		f.Meta = *w.M
	default:
		return nil, 0, fmt.Errorf("scores %s:1: not a score file of odin score (no %q or {\"odin_score\": line)", name, strings.TrimSpace(csvMark))
	}
	if err := f.Meta.check(); err != nil {
		return nil, 0, fmt.Errorf("scores %s:1: %v", name, err)
	}
	var err error
	if f.Format == CSV {
		err = f.parseCSV(name, rest)
	} else {
		err = f.parseJSONL(name, rest)
	}
	return f, end, err
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func (f *File) parseCSV(name string, data []byte) error {
	cols := csvColumns(&f.Meta)
	line, data, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return nil // a crash right after the metadata line; the writer adds the header
	}
	if string(bytes.TrimSuffix(line, []byte{'\r'})) != strings.Join(cols, ",") {
		return fmt.Errorf("scores %s:2: columns %q, want %q", name, line, strings.Join(cols, ","))
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(cols)
	r.ReuseRecord = true
	nm := len(f.Meta.Methods)
	for n := 3; ; n++ {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("scores %s: %v", name, err)
		}
		row := Row{Path: rec[0], Err: rec[len(rec)-1], Class: -1}
		if f.Meta.Threshold != "" {
			row.Decision = rec[len(rec)-2]
		}
		if row.Err == "" {
			row.Scores = make([]float64, nm)
			for i := range nm {
				if row.Scores[i], err = strconv.ParseFloat(rec[1+i], 64); err != nil {
					return fmt.Errorf("scores %s:%d: malformed value %q in column %s", name, n, rec[1+i], f.Meta.Methods[i])
				}
			}
			if row.Class, err = strconv.Atoi(rec[1+nm]); err != nil {
				return fmt.Errorf("scores %s:%d: malformed class %q", name, n, rec[1+nm])
			}
		}
		if err := row.check(&f.Meta); err != nil {
			return fmt.Errorf("scores %s:%d: %v", name, n, err)
		}
		f.Rows = append(f.Rows, row)
	}
}

func (f *File) parseJSONL(name string, data []byte) error {
	n := 1
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		n++
		var j struct {
			Path     *string                    `json:"path"`
			Scores   map[string]json.RawMessage `json:"scores"`
			Class    *int                       `json:"class"`
			Decision string                     `json:"decision"`
			Error    string                     `json:"error"`
		}
		if err := strictJSON(line, &j); err != nil || j.Path == nil {
			return fmt.Errorf("scores %s:%d: malformed row (%v)", name, n, err)
		}
		row := Row{Path: *j.Path, Err: j.Error, Decision: j.Decision, Class: -1}
		if row.Err == "" {
			if j.Class == nil || len(j.Scores) != len(f.Meta.Methods) {
				return fmt.Errorf("scores %s:%d: want class and scores %s", name, n, strings.Join(f.Meta.Methods, ", "))
			}
			row.Class = *j.Class
			for _, c := range f.Meta.Methods {
				v, err := parseJSONFloat(j.Scores[c])
				if err != nil {
					return fmt.Errorf("scores %s:%d: malformed value %s in column %s", name, n, j.Scores[c], c)
				}
				row.Scores = append(row.Scores, v)
			}
		}
		if err := row.check(&f.Meta); err != nil {
			return fmt.Errorf("scores %s:%d: %v", name, n, err)
		}
		f.Rows = append(f.Rows, row)
	}
	return nil
}

func parseJSONFloat(raw json.RawMessage) (float64, error) {
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	return strconv.ParseFloat(s, 64)
}

func (r *Row) check(m *Meta) error {
	switch {
	case r.Path == "":
		return errors.New("empty path")
	case r.Err == "" && r.Class < 0:
		return fmt.Errorf("negative class %d", r.Class)
	case r.Err == "" && m.Threshold != "" && r.Decision != "in" && r.Decision != "out":
		return fmt.Errorf("decision %q, want in or out", r.Decision)
	}
	return nil
}

// Column returns the values of a score column over the rows that have scores, and the number
// of rows without (unreadable images).
func (f *File) Column(name string) ([]float64, int, error) {
	c := -1
	for i, m := range f.Meta.Methods {
		if m == name {
			c = i
		}
	}
	if c < 0 {
		return nil, 0, fmt.Errorf("no column %q (have %s)", name, strings.Join(f.Meta.Methods, ", "))
	}
	var out []float64
	failed := 0
	for _, r := range f.Rows {
		if r.Err != "" {
			failed++
			continue
		}
		out = append(out, r.Scores[c])
	}
	return out, failed, nil
}
