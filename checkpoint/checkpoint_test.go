package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// realExpect is one entry of testdata/real.json, written by testdata/gen.py with PyTorch 1.13.
type realExpect struct {
	Count     int               `json:"count"`
	NamesCRC  uint32            `json:"names_crc"`
	DataCRC   uint32            `json:"data_crc"`
	Meta      map[string]string `json:"meta"`
	BestPrec1 float64           `json:"best_prec1"`
	Tensors   map[string]struct {
		Shape []int     `json:"shape"`
		Sum   float64   `json:"sum"`
		First []float64 `json:"first"`
	} `json:"tensors"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// dataCRC is the CRC-32 of all tensors' float32 little-endian bytes in name order.
func dataCRC(f *File) uint32 {
	var crc uint32
	var b [4]byte
	for _, n := range f.Names {
		buf := make([]byte, 0, 4*len(f.Tensors[n].Data))
		for _, v := range f.Tensors[n].Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			buf = append(buf, b[:]...)
		}
		crc = crc32.Update(crc, crc32.IEEETable, buf)
	}
	return crc
}

func checkShape(t *testing.T, f *File, name string, want ...int) {
	t.Helper()
	tn := f.Tensors[name]
	if tn == nil {
		t.Errorf("%s: no tensor %q", f.Path, name)
		return
	}
	if !reflect.DeepEqual(tn.Shape, want) {
		t.Errorf("%s: %s shape %v, want %v", f.Path, name, tn.Shape, want)
	}
	n := 1
	for _, s := range tn.Shape {
		n *= s
	}
	if len(tn.Data) != n {
		t.Errorf("%s: %s has %d values for shape %v", f.Path, name, len(tn.Data), tn.Shape)
	}
}

// TestRealFiles checks the shared checkpoints against PyTorch 1.13's reading of them: every name
// in order and every value bit for bit (through CRCs), and a few tensors in the clear.
func TestRealFiles(t *testing.T) {
	var want map[string]realExpect
	readJSON(t, "real.json", &want)
	for _, rel := range []string{"models/densenet10.pth", "models/densenet100.pth", "models/resnet20-cifar10.th", "models/resnet56-cifar10.th"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			f, err := Open(datadir.ForTest(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			w := want[rel]
			if f.Format != "legacy" {
				t.Errorf("format %q, want legacy", f.Format)
			}
			if len(f.Names) != w.Count || len(f.Tensors) != w.Count {
				t.Errorf("%d names, %d tensors, want %d", len(f.Names), len(f.Tensors), w.Count)
			}
			if got := crc32.ChecksumIEEE([]byte(strings.Join(f.Names, "\n"))); got != w.NamesCRC {
				t.Errorf("names CRC %d, want %d (names or their order differ from state_dict())", got, w.NamesCRC)
			}
			if got := dataCRC(f); got != w.DataCRC {
				t.Errorf("data CRC %d, want %d", got, w.DataCRC)
			}
			for name, e := range w.Tensors {
				checkShape(t, f, name, e.Shape...)
				tn := f.Tensors[name]
				if tn == nil {
					continue
				}
				for i, v := range e.First {
					if tn.Data[i] != float32(v) {
						t.Errorf("%s[%d] = %v, want %v", name, i, tn.Data[i], float32(v))
					}
				}
				var sum float64
				for _, v := range tn.Data {
					sum += float64(v)
				}
				if math.Abs(sum-e.Sum) > 1e-9*(1+math.Abs(e.Sum)) {
					t.Errorf("%s sum %v, want %v", name, sum, e.Sum)
				}
			}
			for k, v := range w.Meta {
				if f.Meta[k] != v {
					t.Errorf("meta %s = %q, want %q", k, f.Meta[k], v)
				}
			}
		})
	}
}

// TestRealNames spells out the names and shapes the models are built against.
func TestRealNames(t *testing.T) {
	f, err := Open(datadir.ForTest(t, "models/densenet10.pth"))
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, f, "conv1.weight", 24, 3, 3, 3)
	checkShape(t, f, "block1.layer.0.bn1.running_mean", 24)
	checkShape(t, f, "block1.layer.0.conv1.weight", 48, 24, 1, 1)
	checkShape(t, f, "block1.layer.0.conv2.weight", 12, 48, 3, 3)
	checkShape(t, f, "trans1.conv1.weight", 108, 216, 1, 1)
	checkShape(t, f, "fc.weight", 10, 342)
	checkShape(t, f, "fc.bias", 10)
	if f.Names[0] != "conv1.weight" || f.Names[len(f.Names)-1] != "fc.bias" {
		t.Errorf("names run %q .. %q, want conv1.weight .. fc.bias", f.Names[0], f.Names[len(f.Names)-1])
	}
	if got := len(f.Names); got != 497 {
		t.Errorf("densenet10 has %d tensors, want 497", got)
	}
	if f.Meta["module"] != "densenet.DenseNet3" {
		t.Errorf("meta module %q", f.Meta["module"])
	}

	f, err = Open(datadir.ForTest(t, "models/densenet100.pth"))
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, f, "fc.weight", 100, 342)

	for _, c := range []struct {
		rel  string
		n    int
		prec float64
	}{{"models/resnet20-cifar10.th", 97, 91.78}, {"models/resnet56-cifar10.th", 277, 93.62}} {
		f, err := Open(datadir.ForTest(t, c.rel))
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, f, "conv1.weight", 16, 3, 3, 3)
		checkShape(t, f, "linear.weight", 10, 64)
		for _, n := range f.Names {
			if strings.HasPrefix(n, "module.") {
				t.Errorf("%s: name %q keeps its module. prefix", c.rel, n)
			}
		}
		if len(f.Names) != c.n {
			t.Errorf("%s: %d tensors, want %d", c.rel, len(f.Names), c.n)
		}
		var prec float64
		if err := json.Unmarshal([]byte(f.Meta["best_prec1"]), &prec); err != nil || math.Abs(prec-c.prec) > 1e-4 {
			t.Errorf("%s: best_prec1 %q, want %v", c.rel, f.Meta["best_prec1"], c.prec)
		}
	}
}

// TestFixtures checks every tensor of the generated fixtures exactly, in order.
func TestFixtures(t *testing.T) {
	var want map[string]struct {
		Tensors []struct {
			Name  string    `json:"name"`
			Shape []int     `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"tensors"`
		Meta map[string]string `json:"meta"`
	}
	readJSON(t, "fixtures.json", &want)
	formats := map[string]string{
		"zip_state_dict.pt": "zip", "zip_proto4.pt": "zip", "zip_module.pt": "zip",
		"legacy_dict.pth": "legacy", "legacy_module.pth": "legacy", "tiny.safetensors": "safetensors",
	}
	if len(want) != len(formats) {
		t.Fatalf("fixtures.json has %d fixtures, want %d", len(want), len(formats))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != formats[name] {
				t.Errorf("format %q, want %q", f.Format, formats[name])
			}
			var names []string
			for _, e := range w.Tensors {
				names = append(names, e.Name)
				checkShape(t, f, e.Name, e.Shape...)
				tn := f.Tensors[e.Name]
				if tn == nil || len(tn.Data) != len(e.Data) {
					continue
				}
				for i, v := range e.Data {
					if tn.Data[i] != float32(v) {
						t.Errorf("%s[%d] = %v, want %v", e.Name, i, tn.Data[i], float32(v))
						break
					}
				}
			}
			if !reflect.DeepEqual(f.Names, names) {
				t.Errorf("names\n%q\nwant\n%q", f.Names, names)
			}
			if !reflect.DeepEqual(f.Meta, w.Meta) {
				t.Errorf("meta %v, want %v", f.Meta, w.Meta)
			}
		})
	}
}
