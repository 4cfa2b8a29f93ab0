package models

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/odin-ood/odin/checkpoint"
)

// fuzzConfigs are small networks of each family, whose tensor names make the fuzzer's
// vocabulary and whose state dicts are its seeds.
var fuzzConfigs = []any{
	DenseNetConfig{Depth: 10, Growth: 2, Compression: 0.5, Classes: 3},
	WideResNetConfig{Depth: 10, Widen: 1, Classes: 3},
	ResNetConfig{Depth: 8, Classes: 3},
}

// fuzzVocabulary lists every tensor name of fuzzConfigs, sorted.
func fuzzVocabulary() []string {
	var names []string
	for _, c := range fuzzConfigs {
		for n := range randomTensors(c, 1) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Fuzz input layout: one byte choosing the architecture ("" or one of Archs), then tensors, each
// a 2-byte name number (a vocabulary name, or beyond it a generated block1.layer.N name), a
// flags byte (low 3 bits the rank; bit 3: dimensions take 4 bytes, else 1; bit 4: one value
// short) and the dimensions. Tensors with more than fuzzMaxElems elements get no values.
const fuzzMaxElems = 1 << 16

func encodeTensors(vocab []string, arch byte, m map[string]*checkpoint.Tensor) []byte {
	out := []byte{arch}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		i, _ := slices.BinarySearch(vocab, name)
		shape := m[name].Shape
		flags := byte(len(shape))
		wide := slices.ContainsFunc(shape, func(d int) bool { return d > 255 })
		if wide {
			flags |= 8
		}
		out = append(out, byte(i>>8), byte(i), flags)
		for _, d := range shape {
			if wide {
				out = binary.LittleEndian.AppendUint32(out, uint32(d))
			} else {
				out = append(out, byte(d))
			}
		}
	}
	return out
}

func decodeTensors(vocab []string, data []byte) (string, map[string]*checkpoint.Tensor) {
	if len(data) == 0 {
		return "", nil
	}
	arch := []string{"", ArchDenseNet, ArchWideResNet, ArchResNet}[int(data[0])%4]
	m := map[string]*checkpoint.Tensor{}
	total := 0
	for p := 1; p+3 <= len(data); {
		id, flags := int(data[p])<<8|int(data[p+1]), data[p+2]
		p += 3
		name := fmt.Sprintf("block1.layer.%d.bn1.weight", id-len(vocab))
		if id < len(vocab) {
			name = vocab[id]
		}
		width := 1
		if flags&8 != 0 {
			width = 4
		}
		shape := make([]int, flags&7)
		for d := range shape {
			if p+width > len(data) {
				return arch, m
			}
			if width == 4 {
				shape[d] = int(binary.LittleEndian.Uint32(data[p:]) & math.MaxInt32)
			} else {
				shape[d] = int(data[p])
			}
			p += width
		}
		t := &checkpoint.Tensor{Shape: shape, Data: []float32{}}
		if n, ok := prod(shape); ok && n <= fuzzMaxElems && total+n <= 4*fuzzMaxElems {
			if flags&16 != 0 && n > 0 {
				n--
			}
			t.Data = make([]float32, n)
			total += n
		}
		m[name] = t
	}
	return arch, m
}

// FuzzFromTensors builds models from fuzzed tensor names and shapes: every outcome is a model
// whose output has the classes fc or linear declares, or a one-line error naming what is wrong;
// never a panic, never an allocation at a size no tensor holds.
func FuzzFromTensors(f *testing.F) {
	vocab := fuzzVocabulary()
	for i, c := range fuzzConfigs {
		f.Add(encodeTensors(vocab, 0, randomTensors(c, 1)))
		f.Add(encodeTensors(vocab, byte(i+1), randomTensors(c, 1)))
	}
	bad := randomTensors(fuzzConfigs[0], 1)
	bad["fc.weight"] = &checkpoint.Tensor{Shape: []int{2147483647, 0}}
	f.Add(encodeTensors(vocab, 0, bad))
	f.Fuzz(func(t *testing.T, data []byte) {
		arch, m := decodeTensors(vocab, data)
		model, err := FromTensors(m, arch)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 1000 {
				t.Fatalf("bad error: %q", msg)
			}
			return
		}
		if model.Graph == nil || model.Classes() < 1 {
			t.Fatalf("model %s without a graph or classes", model.Name)
		}
	})
}

// TestFuzzSeedsBuild checks that the fuzzer's encoding carries a whole network: the seeds build.
func TestFuzzSeedsBuild(t *testing.T) {
	vocab := fuzzVocabulary()
	for i, c := range fuzzConfigs {
		arch, m := decodeTensors(vocab, encodeTensors(vocab, byte(i+1), randomTensors(c, 1)))
		if _, err := FromTensors(m, arch); err != nil {
			t.Errorf("%T: %v", c, err)
		}
	}
}

// FuzzLoad reads fuzzed checkpoint bytes with package checkpoint and builds the model: seeded
// with small networks of every family as safetensors files and with the checkpoint package's
// fixtures, it reaches FromTensors with the names and shapes a file can declare. Every outcome
// is a model or a one-line error, never a panic.
func FuzzLoad(f *testing.F) {
	for _, c := range fuzzConfigs {
		f.Add(encodeSafetensors(f, randomTensors(c, 1)))
	}
	for _, name := range []string{"tiny.safetensors", "zip_state_dict.pt", "legacy_dict.pth", "zip_module.pt"} {
		if b, err := os.ReadFile(filepath.Join("..", "checkpoint", "testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := checkpoint.Read(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		_, err = FromTensors(file.Tensors, "")
		if err != nil && (strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 1000) {
			t.Fatalf("bad error: %q", err)
		}
	})
}
