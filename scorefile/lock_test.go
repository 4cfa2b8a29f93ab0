package scorefile

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSecondWriterRefused: two runs sharing a --scores folder could leave out.csv with a stray
// line. Now a second writer of a file is refused with a one-line error while the first holds it,
// and leaves the file as it was.
func TestSecondWriterRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	cols := []string{"baseline", "odin"}
	w1, err := Append(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := w1.Write(0, []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w1.Flush(); err != nil {
		t.Fatal(err)
	}
	before := readText(t, path)
	for name, open := range map[string]func(string, []string) (*Writer, error){"Append": Append, "Create": Create} {
		w2, err := open(path, cols)
		if err == nil {
			w2.Close()
			t.Fatalf("%s: second writer not refused", name)
		}
		want := "scores " + path + ": in use by another run"
		if !errors.Is(err, ErrBusy) || err.Error() != want {
			t.Errorf("%s: error %q, want %q wrapping ErrBusy", name, err, want)
		}
		if got := readText(t, path); got != before {
			t.Errorf("%s: refused writer changed the file to %q", name, got)
		}
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	w3, err := Append(path, cols)
	if err != nil {
		t.Fatalf("after the first writer closed: %v", err)
	}
	w3.Close()
}

// TestConcurrentWriters races writers of disjoint rows on one file, many times: each run either
// writes all its rows or is refused before writing any, and the file always reads back whole,
// holding exactly the rows of the runs that were let in.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	cols := []string{"odin"}
	want := map[int]bool{}
	refused := 0
	for round := range 16 {
		var wg sync.WaitGroup
		ok := make([]bool, 2)
		for r := range 2 {
			wg.Go(func() {
				w, err := Append(path, cols)
				if err != nil {
					if !errors.Is(err, ErrBusy) {
						t.Errorf("round %d: %v", round, err)
					}
					return
				}
				for i := range 500 {
					idx := (round*2+r)*500 + i
					if err := w.Write(idx, []float64{float64(idx)}); err != nil {
						t.Error(err)
					}
					if i%50 == 0 {
						w.Flush()
					}
				}
				if err := w.Close(); err != nil {
					t.Error(err)
				}
				ok[r] = true
			})
		}
		wg.Wait()
		for r := range 2 {
			if !ok[r] {
				refused++
				continue
			}
			for i := range 500 {
				want[(round*2+r)*500+i] = true
			}
		}
		f, err := Read(path)
		if err != nil {
			t.Fatalf("round %d: file corrupt: %v", round, err)
		}
		if f.Len() != len(want) {
			t.Fatalf("round %d: %d rows, want %d", round, f.Len(), len(want))
		}
		for i, idx := range f.Index {
			if !want[idx] || f.Values[0][i] != float64(idx) {
				t.Fatalf("round %d: stray row %d", round, idx)
			}
		}
	}
	t.Logf("%d of 32 writers refused", refused)
}

// TestCreateExclusive races two runs writing different run.json files: one writes it whole, the
// other is told it exists, and the file is never a mix or a fragment.
func TestCreateExclusive(t *testing.T) {
	dir := t.TempDir()
	for round := range 20 {
		path := filepath.Join(dir, fmt.Sprintf("run%d.json", round))
		bodies := []string{strings.Repeat("a", 100000), strings.Repeat("b", 100000)}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for r := range 2 {
			wg.Go(func() { errs[r] = CreateExclusive(path, []byte(bodies[r])) })
		}
		wg.Wait()
		won := -1
		for r, err := range errs {
			switch {
			case err == nil:
				won = r
			case !errors.Is(err, fs.ErrExist) || strings.Contains(err.Error(), "\n"):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won < 0 || errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: errors %v, want exactly one success", round, errs)
		}
		if got := readText(t, path); got != bodies[won] {
			t.Fatalf("round %d: file holds %d bytes not written by the winner", round, len(got))
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestLockDir: a score folder's lock is held by one DirLock at a time.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l1, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := LockDir(dir); !errors.Is(err, ErrBusy) {
		l2.Close()
		t.Fatalf("second lock: %v, want ErrBusy", err)
	}
	l1.Close()
	l3, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l3.Close()
	if _, err := LockDir(filepath.Join(dir, "missing")); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing folder: %v", err)
	}
}
