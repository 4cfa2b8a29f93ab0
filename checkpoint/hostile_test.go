package checkpoint

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// allocated returns the bytes the heap allocated while fn ran. It bounds from above how much
// memory fn's work held at its peak (garbage included), whatever the collector did meanwhile.
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// TestHostilePickleMemory feeds pickles made of one cheap opcode repeated, each of which used
// to take 75–95 bytes of memory per byte of input (a 50 MB pickle took 3.7 GB): now every one
// stops with a one-line error once its values would take PickleBytesPerByte bytes per input
// byte (and never more than MaxPickleMemory), and the bytes allocated in all stay under twice
// that.
func TestHostilePickleMemory(t *testing.T) {
	const n = 1 << 20 // opcodes
	cases := map[string][]byte{
		"dicts":  {'}'},
		"lists":  {']'},
		"tuples": {')'},
		"marks":  {'('},
		"nones":  {'N'},
		"dup":    {'2'},
		"memo":   {'N', 0x94},
		"pairs":  {'N', 'N', 0x86},
	}
	for name, unit := range cases {
		t.Run(name, func(t *testing.T) {
			var p pickler
			p.proto(2).op('N')
			p.Write(bytes.Repeat(unit, n/len(unit)))
			p.op('.')
			file := legacyFile(p.Bytes())
			var err error
			got := allocated(func() { _, err = readBytes(file, "big.pth") })
			if name == "dicts" || name == "lists" || name == "memo" {
				checkErr(t, err, "big.pth", "pickle: values at byte", "take more memory than a pickle of its size may")
			} else {
				checkErr(t, err, "big.pth") // each fits, or runs out of memory, or leaves no state dict
			}
			bound := uint64(2 * (PickleBytesPerByte*len(file) + 1<<20))
			t.Logf("%s: %d-byte file, %.1f MB allocated (%.1f bytes per byte; bound %.1f MB)",
				name, len(file), float64(got)/1e6, float64(got)/float64(len(file)), float64(bound)/1e6)
			if got > bound {
				t.Errorf("%d bytes allocated for a %d-byte file, bound %d", got, len(file), bound)
			}
		})
	}
}

// TestHostileEmptyDims checks that a tensor without elements cannot carry dimensions larger than
// the file could hold: the 274-byte safetensors file whose fc.weight is [2147483647, 0] once
// made odin build a network with two billion classes.
func TestHostileEmptyDims(t *testing.T) {
	file := safetensorsFile(t, map[string]any{
		"fc.weight": map[string]any{"dtype": "F32", "shape": []int64{2147483647, 0}, "data_offsets": []int64{0, 0}},
		"fc.bias":   map[string]any{"dtype": "F32", "shape": []int64{1}, "data_offsets": []int64{0, 4}},
	}, make([]byte, 4))
	var err error
	got := allocated(func() { _, err = readBytes(file, "empty.safetensors") })
	checkErr(t, err, "empty.safetensors", `tensor "fc.weight": shape [2147483647 0]: empty, with dimensions larger than the file can hold`)
	if got > 1<<20 {
		t.Errorf("%d bytes allocated reading a %d-byte file", got, len(file))
	}
	// Empty tensors whose dimensions the file could hold are still read.
	ok := safetensorsFile(t, map[string]any{
		"e": map[string]any{"dtype": "F32", "shape": []int64{3, 0}, "data_offsets": []int64{0, 0}},
		"b": map[string]any{"dtype": "F32", "shape": []int64{1}, "data_offsets": []int64{0, 4}},
	}, make([]byte, 4))
	f, err := readBytes(ok, "ok.safetensors")
	if err != nil || !strings.HasPrefix(strings.Trim(strings.Join(f.Names, ","), ","), "") || len(f.Tensors["e"].Data) != 0 {
		t.Fatalf("empty tensor within bounds: %v", err)
	}
}

// TestPickleBudget: the budget grows with the pickle up to MaxPickleMemory, so the 50 MB pickle
// that took 3.7 GB may now take 256 MiB of values.
func TestPickleBudget(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{
		{0, 1 << 20},
		{1000, 64*1000 + 1<<20},
		{2 << 20, 64*(2<<20) + 1<<20},
		{4 << 20, MaxPickleMemory},
		{50 << 20, MaxPickleMemory},
		{1 << 40, MaxPickleMemory},
	} {
		if got := pickleBudget(c.size); got != c.want || got > MaxPickleMemory {
			t.Errorf("pickleBudget(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}
