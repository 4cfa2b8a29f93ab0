package scorefile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead checks that Read never panics, that whatever it accepts is consistent and survives a
// write-and-read round trip, and that the partial parse Append uses agrees with Read.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"index,baseline,odin\n0,0.5,0.1\n1,NaN,-Inf\n",
		"index,a\r\n2,0x1p-2\r\n",
		"index,baseline,odin\n0,1,2\n0,1,2\n",
		"index,a\n0,1\n1,2",
		"\ufeffindex,a,b\n9,1e308,-0\n",
		"index\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, _, err := parse("f.csv", bytes.NewReader(data), false)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "scores f.csv") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
		} else {
			check(t, file)
			roundTrip(t, file)
		}

		part, complete, perr := parse("f.csv", bytes.NewReader(data), true)
		if complete < 0 || complete > int64(len(data)) {
			t.Fatalf("complete = %d for %d bytes", complete, len(data))
		}
		if perr != nil || part == nil {
			return
		}
		// The complete prefix is exactly what Read accepts.
		again, _, err := parse("f.csv", bytes.NewReader(data[:complete]), false)
		if err != nil {
			t.Fatalf("partial parse accepted %d bytes that Read rejects: %v", complete, err)
		}
		if !equal(again, part) {
			t.Fatal("partial parse and Read of the complete prefix differ")
		}
	})
}

// TestReadFile reads the fuzz seeds through the file API too.
func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.csv")
	if err := os.WriteFile(p, []byte("index,baseline,odin\n0,0.5,0.1\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	check(t, f)
	roundTrip(t, f)
}

func check(t *testing.T, f *File) {
	t.Helper()
	if err := checkColumns(f.Columns); err != nil {
		t.Fatalf("accepted bad columns %q: %v", f.Columns, err)
	}
	if len(f.Values) != len(f.Columns) {
		t.Fatalf("%d value columns for %d names", len(f.Values), len(f.Columns))
	}
	for _, v := range f.Values {
		if len(v) != len(f.Index) {
			t.Fatalf("column of %d values for %d rows", len(v), len(f.Index))
		}
	}
	seen := make(map[int]bool)
	for _, i := range f.Index {
		if i < 0 || seen[i] {
			t.Fatalf("accepted index %d", i)
		}
		seen[i] = true
	}
}

// roundTrip formats f as Writer does and checks that it parses back to the same content.
func roundTrip(t *testing.T, f *File) {
	t.Helper()
	w := &Writer{columns: f.Columns}
	b := []byte(w.header())
	row := make([]float64, len(f.Columns))
	for r, i := range f.Index {
		for c := range f.Columns {
			row[c] = f.Values[c][r]
		}
		b = appendRow(b, i, row)
	}
	g, _, err := parse("f.csv", bytes.NewReader(b), false)
	if err != nil {
		t.Fatalf("written form %q does not parse: %v", b, err)
	}
	if !equal(f, g) {
		t.Fatalf("round trip changed the content: %q", b)
	}
}

func equal(a, b *File) bool {
	if len(a.Columns) != len(b.Columns) || len(a.Index) != len(b.Index) {
		return false
	}
	for c := range a.Columns {
		if a.Columns[c] != b.Columns[c] {
			return false
		}
		for r := range a.Index {
			x, y := a.Values[c][r], b.Values[c][r]
			if math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
				return false
			}
		}
	}
	for r := range a.Index {
		if a.Index[r] != b.Index[r] {
			return false
		}
	}
	return true
}
