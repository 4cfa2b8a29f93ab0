package models

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/odin-ood/odin/checkpoint"
)

// allocated returns the bytes the heap allocated while fn ran, an upper bound on the memory
// fn's work held at its peak.
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// oneLine fails unless err is a one-line error containing want.
func oneLine(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, want) {
		t.Fatalf("error %q: want one line containing %q", msg, want)
	}
}

// TestHostileEmptyClassifier is the 274-byte file's tensors handed straight to FromTensors: a
// DenseNet-BC whose fc.weight is declared [2147483647, 0]. The network it implies is refused at
// the first tensor that does not fit, before anything is allocated at its size.
func TestHostileEmptyClassifier(t *testing.T) {
	m := randomTensors(DenseNetConfig{Depth: 10, Growth: 2, Compression: 0.5, Classes: 3}, 1)
	m["fc.weight"] = &checkpoint.Tensor{Shape: []int{2147483647, 0}, Data: []float32{}}
	m["fc.bias"] = &checkpoint.Tensor{Shape: []int{2147483647, 0}, Data: []float32{}}
	var err error
	got := allocated(func() { _, err = FromTensors(m, "") })
	oneLine(t, err, "tensor fc.weight has shape [2147483647 0], want [2147483647 ")
	if got > 1<<20 {
		t.Errorf("%d bytes allocated refusing it; bound 1 MiB", got)
	}
	// A missing tensor allocates nothing at its expected size either.
	delete(m, "conv1.weight")
	got = allocated(func() { _, err = FromTensors(m, "densenet") })
	oneLine(t, err, "missing tensor conv1.weight")
	if got > 1<<20 {
		t.Errorf("%d bytes allocated refusing it; bound 1 MiB", got)
	}
}

// hostileLayers is a DenseNet-BC layout whose first block names n layers, of which only layer 0
// has its tensors: the depth inferred is 6n+4, the network it implies enormous.
func hostileLayers(n int) map[string]*checkpoint.Tensor {
	m := randomTensors(DenseNetConfig{Depth: 10, Growth: 2, Compression: 0.5, Classes: 3}, 1)
	for i := 1; i < n; i++ {
		m[fmt.Sprintf("block1.layer.%d.bn1.num_batches_tracked", i)] = &checkpoint.Tensor{Shape: []int{}, Data: []float32{0}}
	}
	return m
}

// TestHostileLayerNames: a 39 KB file with many block1.layer.N names made odin take 5.1 GB
// before it reported a missing tensor, and a 1.6 MB one more than 16 GB. Now the first missing
// tensor stops the build, and the whole refusal, reading the file included, allocates less
// than 32 bytes per byte of file plus 1 MiB.
func TestHostileLayerNames(t *testing.T) {
	for _, n := range []int{700, 30000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "layers.safetensors")
			size := writeSafetensors(t, path, hostileLayers(n))
			var err error
			got := allocated(func() { _, err = Load(path, "") })
			oneLine(t, err, fmt.Sprintf("checkpoint layers.safetensors: DenseNet-BC-%d (k=2): missing tensor block1.layer.1.bn1.weight", 6*n+4))
			bound := uint64(32*size + 1<<20)
			t.Logf("%d-byte file: %.1f MB allocated (bound %.1f MB)", size, float64(got)/1e6, float64(bound)/1e6)
			if got > bound {
				t.Errorf("%d bytes allocated for a %d-byte file; bound %d", got, size, bound)
			}
		})
	}
}

// writeSafetensors writes tensors as a float32 safetensors file and returns its size.
func writeSafetensors(t testing.TB, path string, m map[string]*checkpoint.Tensor) int {
	out := encodeSafetensors(t, m)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return len(out)
}

// encodeSafetensors encodes tensors as a float32 safetensors file.
func encodeSafetensors(t testing.TB, m map[string]*checkpoint.Tensor) []byte {
	header := map[string]any{}
	var buf []byte
	for _, name := range slices.Sorted(maps.Keys(m)) {
		tn := m[name]
		begin := len(buf)
		for _, v := range tn.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		header[name] = map[string]any{"dtype": "F32", "shape": tn.Shape, "data_offsets": []int{begin, len(buf)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), buf...)
}

// TestHostileFile is the 274-byte case end to end: a checkpoint file declaring fc.weight
// [2147483647, 0] is refused by Load with one line, allocating almost nothing.
func TestHostileFile(t *testing.T) {
	m := map[string]*checkpoint.Tensor{
		"conv1.weight":                {Shape: []int{24, 3, 3, 3}, Data: []float32{}},
		"trans1.conv1.weight":         {Shape: []int{1, 2, 1, 1}, Data: []float32{1, 1}},
		"block1.layer.0.conv2.weight": {Shape: []int{12, 48, 3, 3}, Data: []float32{}},
		"fc.weight":                   {Shape: []int{2147483647, 0}, Data: []float32{}},
	}
	m["conv1.weight"].Shape = []int{0, 3, 3, 3}
	m["block1.layer.0.conv2.weight"].Shape = []int{12, 0, 3, 3}
	path := filepath.Join(t.TempDir(), "fc.safetensors")
	size := writeSafetensors(t, path, m)
	var err error
	got := allocated(func() { _, err = Load(path, "") })
	oneLine(t, err, `checkpoint fc.safetensors: tensor "fc.weight": shape [2147483647 0]: empty, with dimensions larger than the file can hold`)
	t.Logf("%d-byte file: %d bytes allocated", size, got)
	if got > 1<<20 {
		t.Errorf("%d bytes allocated refusing a %d-byte file", got, size)
	}
}
