package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// checkRead asserts what every input must satisfy: a one-line error naming the file, or tensors
// whose data matches their shapes within the memory bound.
func checkRead(t *testing.T, data []byte) {
	f, err := readBytes(data, "fuzz")
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "checkpoint fuzz: ") || strings.ContainsAny(msg, "\n\r") || len(msg) > 1000 {
			t.Fatalf("bad error: %q", msg)
		}
		return
	}
	checkFile(t, f, int64(len(data)))
}

func checkFile(t *testing.T, f *File, size int64) {
	if len(f.Names) != len(f.Tensors) {
		t.Fatalf("%d names, %d tensors", len(f.Names), len(f.Tensors))
	}
	total := int64(0)
	for _, n := range f.Names {
		tn := f.Tensors[n]
		if tn == nil {
			t.Fatalf("name %q without tensor", n)
		}
		want := 1
		for _, s := range tn.Shape {
			want *= s
		}
		if len(tn.Data) != want {
			t.Fatalf("%s: %d values for shape %v", n, len(tn.Data), tn.Shape)
		}
		total += int64(len(tn.Data))
	}
	if total > 2*size {
		t.Fatalf("%d elements from %d bytes", total, size)
	}
}

// FuzzPickle runs the unpickler and the tensor naming on arbitrary pickles, with every storage
// the pickle names backed by zeros.
func FuzzPickle(f *testing.F) {
	for _, name := range []string{"zip_state_dict.pt", "zip_proto4.pt", "zip_module.pt"} {
		b := fixture(f, name)
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range zr.File {
			if strings.HasSuffix(e.Name, "/data.pkl") {
				rc, _ := e.Open()
				pkl, _ := io.ReadAll(rc)
				rc.Close()
				f.Add(pkl)
			}
		}
	}
	// The object pickle of a legacy file starts after the three header pickles.
	b := fixture(f, "legacy_dict.pth")
	src := newSource(bytes.NewReader(b), int64(len(b)))
	for range 3 {
		if _, err := unpickle(src, plainResolver{}); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(b[src.pos:])
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		e := newEnv(size)
		obj, err := unpickle(newSource(bytes.NewReader(data), size), e)
		if err != nil {
			return
		}
		for _, r := range e.order {
			n := r.nbytes
			r.read = func(_ []byte, off, m int64) ([]byte, error) {
				if off < 0 || m < 0 || off > n || m > n-off {
					t.Fatalf("read of %d at %d outside %d bytes", m, off, n)
				}
				return make([]byte, m), nil
			}
		}
		entries, meta, err := collect(obj, size)
		if err != nil {
			return
		}
		out := &File{}
		if err := finish(out, entries, meta, binary.LittleEndian, &budget{left: 2 * size}); err != nil {
			return
		}
		checkFile(t, out, size)
	})
}

func FuzzSafetensors(f *testing.F) {
	f.Add(fixture(f, "tiny.safetensors"))
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(checkRead)
}

func FuzzLegacy(f *testing.F) {
	f.Add(fixture(f, "legacy_dict.pth"))
	f.Fuzz(checkRead)
}

func FuzzZip(f *testing.F) {
	f.Add(fixture(f, "zip_state_dict.pt"))
	f.Add(fixture(f, "zip_module.pt"))
	f.Fuzz(checkRead)
}
