package scorefile

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	return p
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.csv")
	w, err := Create(path, []string{"baseline", "odin", "energy"})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int][]float64{
		0:  {0.5, 0.1, -3},
		7:  {1.0 / 3, math.Nextafter(0.1, 1), math.SmallestNonzeroFloat64},
		3:  {math.Inf(1), math.Inf(-1), math.Copysign(0, -1)},
		12: {math.MaxFloat64, -math.MaxFloat64, math.NaN()},
	}
	order := []int{0, 7, 3, 12}
	for _, i := range order {
		if err := w.Write(i, rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.SplitN(readText(t, path), "\n", 3)[:2], []string{"index,baseline,odin,energy", "0,0.5,0.1,-3"}; !slices.Equal(got, want) {
		t.Errorf("first lines %q, want %q", got, want)
	}

	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Columns, []string{"baseline", "odin", "energy"}) || !slices.Equal(f.Index, order) || f.Len() != 4 {
		t.Fatalf("columns %v, index %v", f.Columns, f.Index)
	}
	for r, i := range f.Index {
		for c := range f.Columns {
			got, want := f.Values[c][r], rows[i][c]
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("row %d column %s: %v, want %v", i, f.Columns[c], got, want)
			}
		}
	}
	odin, err := f.Column("odin")
	if err != nil {
		t.Fatal(err)
	}
	if odin[0] != 0.1 || len(odin) != 4 {
		t.Errorf("Column(odin) = %v", odin)
	}
}

func TestColumnUnknown(t *testing.T) {
	p := write(t, t.TempDir(), "in.csv", "index,baseline,odin\n0,1,2\n")
	f, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Column("energy")
	if want := "scores " + p + `: no column "energy" (have baseline, odin)`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ content, want string }{
		{"", `in.csv: empty file: want a header line "index,<column>,…"`},
		{"index,odin", "in.csv:1: header line has no newline: the file was cut short"},
		{"idx,odin\n", `in.csv:1: header starts with "idx", want index`},
		{"index\n", "in.csv:1: no score columns"},
		{"index,a,,b\n", "in.csv:1: score column 2 has an empty name"},
		{"index,a,index\n", `in.csv:1: score column named "index"`},
		{"index,a,\"b\"\n", `in.csv:1: column name "\"b\"" contains a comma, quote or line break`},
		{"index,a,a\n", `in.csv:1: duplicate column name "a"`},
		{"index,baseline,odin\n0,1,2\n1,2,abc\n", `in.csv:3: malformed value "abc" in column odin`},
		{"index,baseline,odin\n0,1,2\n1,,2\n", `in.csv:3: malformed value "" in column baseline`},
		{"index,baseline,odin\n0,1,1e999\n", `in.csv:2: value out of float64 range "1e999" in column odin`},
		{"index,baseline,odin\n0,1\n", "in.csv:2: 2 fields, want 3 (index,baseline,odin)"},
		{"index,baseline,odin\n0,1,2,3\n", "in.csv:2: 4 fields, want 3 (index,baseline,odin)"},
		{"index,baseline,odin\n-1,1,2\n", `in.csv:2: malformed index "-1"`},
		{"index,baseline,odin\n1.5,1,2\n", `in.csv:2: malformed index "1.5"`},
		{"index,baseline,odin\n1234567890123456789,1,2\n", `in.csv:2: malformed index "1234567890123456789"`},
		{"index,baseline,odin\n5,1,2\n6,1,2\n5,3,4\n", "in.csv:4: duplicate index 5 (first on line 2)"},
		{"index,baseline,odin\n5,1,2\n\n", "in.csv:3: empty line"},
		{"index,baseline,odin\n5,1,2\n6,1,0.2", "in.csv:3: last line has no newline: the file was cut short"},
		{"index,odin\n0," + strings.Repeat("9", 100) + "x\n", `in.csv:2: malformed value "9999999999999999999999999999999999999999"… in column odin`},
	} {
		p := write(t, dir, "in.csv", c.content)
		_, err := Read(p)
		want := "scores " + filepath.Join(dir, c.want)
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", c.content, err, want)
		}
	}
	_, err := Read(filepath.Join(dir, "missing.csv"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || err.Error() != "scores "+filepath.Join(dir, "missing.csv")+": no such file or directory" {
		t.Errorf("missing file: error %v", err)
	}
}

func TestReadAccepts(t *testing.T) {
	// CRLF line ends, a byte order mark, unsorted indices, NaN/Inf spellings and hex floats.
	p := write(t, t.TempDir(), "in.csv", "\ufeffindex,a\r\n2,NaN\r\n0,-inf\r\n1,0x1p-2\r\n")
	f, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Values[0]
	if !slices.Equal(f.Index, []int{2, 0, 1}) || !math.IsNaN(a[0]) || !math.IsInf(a[1], -1) || a[2] != 0.25 {
		t.Errorf("got index %v values %v", f.Index, a)
	}
}

func TestWriterFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.csv")
	w, err := Create(path, []string{"odin"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := readText(t, path); got != "index,odin\n" {
		t.Errorf("after Create: %q, want the header", got)
	}
	if err := w.Write(4, []float64{0.25}); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, path); got != "index,odin\n" {
		t.Errorf("before Flush: %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, path); got != "index,odin\n4,0.25\n" {
		t.Errorf("after Flush: %q", got)
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	if _, err := Create(path, nil); err == nil || err.Error() != "scores "+path+": no score columns" {
		t.Errorf("no columns: %v", err)
	}
	if _, err := Create(path, []string{"a,b"}); err == nil || !strings.Contains(err.Error(), "contains a comma") {
		t.Errorf("bad column: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "no", "s.csv"), []string{"a"}); err == nil || !strings.HasSuffix(err.Error(), "s.csv: no such file or directory") {
		t.Errorf("bad directory: %v", err)
	}
	w, err := Create(path, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		index  int
		values []float64
		want   string
	}{
		{1, []float64{1}, "row 1 has 1 values for 2 columns"},
		{-1, []float64{1, 2}, "index -1 out of range"},
		{1e18, []float64{1, 2}, "index 1000000000000000000 out of range"},
	} {
		if err := w.Write(c.index, c.values); err == nil || err.Error() != "scores "+path+": "+c.want {
			t.Errorf("Write(%d, %v): %v, want %s", c.index, c.values, err, c.want)
		}
	}
	if err := w.Write(3, []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(3, []float64{1, 2}); err == nil || err.Error() != "scores "+path+": duplicate index 3" {
		t.Errorf("duplicate: %v", err)
	}
	if !w.Has(3) || w.Has(1) || w.Len() != 1 {
		t.Errorf("Has(3) %v, Has(1) %v, Len %d", w.Has(3), w.Has(1), w.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(4, []float64{1, 2}); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestAppendResumesAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.csv")
	cols := []string{"baseline", "odin"}
	w, err := Create(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Write(i, []float64{float64(i), 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of row 3.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("3,0.12"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	w, err = Append(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	if w.Len() != 3 || !w.Has(2) || w.Has(3) {
		t.Errorf("after Append: Len %d, Has(2) %v, Has(3) %v", w.Len(), w.Has(2), w.Has(3))
	}
	if err := w.Write(3, []float64{3, 0.75}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(1, []float64{1, 0.5}); err == nil {
		t.Error("rewriting a row found in the file: no error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "index,baseline,odin\n0,0,0.5\n1,1,0.5\n2,2,0.5\n3,3,0.75\n"
	if got := readText(t, path); got != want {
		t.Errorf("file %q, want %q", got, want)
	}
}

func TestAppendNewOrHeaderless(t *testing.T) {
	dir := t.TempDir()
	for _, existing := range []string{"", "ind", "index,odin"} {
		path := filepath.Join(dir, "s.csv")
		os.Remove(path)
		if existing != "" {
			write(t, dir, "s.csv", existing)
		}
		w, err := Append(path, []string{"odin"})
		if err != nil {
			t.Fatalf("existing %q: %v", existing, err)
		}
		if err := w.Write(0, []float64{1}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, path); got != "index,odin\n0,1\n" {
			t.Errorf("existing %q: file %q", existing, got)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ content, want string }{
		{"index,baseline\n0,1\n", "s.csv: columns index,baseline, want index,baseline,odin"},
		{"index,baseline,odin\n0,1,x\n1,2", `s.csv:2: malformed value "x" in column odin`},
		{"hello", `s.csv: starts with "hello", not a header line "index,baseline,odin"`},
	} {
		path := write(t, dir, "s.csv", c.content)
		_, err := Append(path, []string{"baseline", "odin"})
		if want := "scores " + filepath.Join(dir, c.want); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", c.content, err, want)
		}
		if got := readText(t, path); got != c.content {
			t.Errorf("%q: Append changed the file to %q", c.content, got)
		}
	}
}
