package checkpoint

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// checkErr fails unless err is one line naming the file and containing each of want.
func checkErr(t *testing.T, err error, file string, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", file, want)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "checkpoint "+file+": ") {
		t.Errorf("error does not start with %q: %s", "checkpoint "+file+": ", msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

func readBytes(b []byte, name string) (*File, error) {
	return Read(bytes.NewReader(b), int64(len(b)), name)
}

func TestTruncatedReal(t *testing.T) {
	path := datadir.ForTest(t, "models/densenet10.pth")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// Cuts inside the header pickles, the object pickle, the key list, a storage's count and
	// data, and one byte short of the end.
	for _, n := range []int64{1, 5, 30, 119, 2000, 60000, 104434, 104500, 111050, 111054, 500000, st.Size() - 1} {
		_, err := Read(io.NewSectionReader(fh, 0, n), n, "densenet10.pth")
		checkErr(t, err, "densenet10.pth", "truncated")
	}
}

// TestTruncatedStorage cuts a legacy file inside its last storage.
func TestTruncatedStorage(t *testing.T) {
	var p pickler
	p.proto(2).op('}').str("w").tensor("FloatStorage", "94225", 6, nil, 0, []int32{6}, []int32{1}).op('s', '.')
	full := legacyFile(p.Bytes(), rawStorage{"94225", float32s(1, 2, 3, 4, 5, 6), 4})
	if _, err := readBytes(full, "w.pth"); err != nil {
		t.Fatal(err)
	}
	n := len(full) - 5
	_, err := readBytes(full[:n], "w.pth")
	checkErr(t, err, "w.pth", fmt.Sprintf(`truncated: storage "94225" needs 24 bytes at offset %d, file has %d`, len(full)-24, n))
	_, err = readBytes(full[:len(full)-26], "w.pth")
	checkErr(t, err, "w.pth", fmt.Sprintf(`truncated: storage "94225" header needs 8 bytes at offset %d`, len(full)-32))
}

// TestTruncatedFixtures cuts each fixture at every length: each cut is an error, never a panic.
func TestTruncatedFixtures(t *testing.T) {
	for _, name := range []string{"legacy_dict.pth", "zip_state_dict.pt", "tiny.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			_, err := readBytes(b[:n], name)
			if err == nil {
				t.Fatalf("%s cut to %d bytes: no error", name, n)
			}
			checkErr(t, err, name)
		}
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := [][]byte{nil, []byte("PK\x03\x04"), {0x80, 0x02}, {0x80, 0x02, 0x8a, 0x0a}, {16, 0, 0, 0, 0, 0, 0, 0, '{'}}
	for i := 0; i < 500; i++ {
		b := make([]byte, rng.IntN(3000))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		p := prefixes[i%len(prefixes)]
		if len(b) > len(p) {
			copy(b, p)
		}
		_, err := readBytes(b, "random.bin")
		checkErr(t, err, "random.bin")
	}
	_, err := readBytes([]byte("hello, world: not a checkpoint"), "x.pth")
	checkErr(t, err, "x.pth", "unrecognised format")
}

func TestEmpty(t *testing.T) {
	_, err := readBytes(nil, "empty.pth")
	checkErr(t, err, "empty.pth", "empty file")
	path := filepath.Join(t.TempDir(), "empty.pt")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	checkErr(t, err, "empty.pt", "empty file")
	_, err = Open(filepath.Join(t.TempDir(), "missing.pt"))
	checkErr(t, err, "missing.pt", "no such file")
}

// TestGlobals checks that calls of anything outside the allowlist are refused by name, in every
// way a pickle can call or instantiate.
func TestGlobals(t *testing.T) {
	var reduce pickler
	reduce.proto(2).global("os", "system").str("echo hi").op(0x85, 'R', '.')
	var stackGlobal pickler
	stackGlobal.proto(4).op(0x8c, 8).op([]byte("builtins")...).op(0x8c, 4).op([]byte("eval")...).op(0x93).str("1").op(0x85, 'R', '.')
	var inst pickler
	inst.op('(').op([]byte("S'ls'\n")...).op('i').op([]byte("subprocess\ncall\n")...).op('.')
	var newobj pickler
	newobj.proto(2).global("os", "system").op(')', 0x81, '.')
	var getattr pickler
	getattr.proto(2).global("builtins", "getattr").global("os", "path").str("join").op(0x86, 'R', '.')
	// Hidden as the rebuild function of a tensor subclass.
	var fromType pickler
	fromType.proto(2).global("torch._tensor", "_rebuild_from_type_v2").op('(').global("posix", "system").
		global("torch", "Tensor").str("id").op(0x85).op('N', 't', 'R', '.')
	// Deep inside an otherwise plausible checkpoint.
	var nested pickler
	nested.proto(2).op('}').str("epoch").int(3).str("state_dict").global("collections", "OrderedDict").op(')', 'R')
	nested.str("w").global("nt", "system").str("x").op(0x85, 'R', 's', 's', '.')

	cases := []struct {
		name, global string
		pkl          []byte
	}{
		{"reduce", "os.system", reduce.Bytes()},
		{"stack_global", "builtins.eval", stackGlobal.Bytes()},
		{"inst", "subprocess.call", inst.Bytes()},
		{"newobj", "os.system", newobj.Bytes()},
		{"getattr", "builtins.getattr", getattr.Bytes()},
		{"from_type", "posix.system", fromType.Bytes()},
		{"nested", "nt.system", nested.Bytes()},
	}
	for _, c := range cases {
		_, err := readBytes(legacyFile(c.pkl), "evil.pth")
		checkErr(t, err, "evil.pth", "pickle names unexpected global "+c.global)
		z := zipFile(t, [2]string{"archive/data.pkl", string(c.pkl)})
		_, err = readBytes(z, "evil.pt")
		checkErr(t, err, "evil.pt", "pickle names unexpected global "+c.global)
	}
}

func TestZipBad(t *testing.T) {
	_, err := readBytes(zipFile(t, [2]string{"archive/version", "3\n"}), "nopkl.pt")
	checkErr(t, err, "nopkl.pt", "no <folder>/data.pkl")

	// A storage the pickle names but the archive lacks.
	var p pickler
	p.proto(2).global("collections", "OrderedDict").op(')', 'R').str("w").tensor("FloatStorage", "0", 2, nil, 0, []int32{2}, []int32{1}).op('s', '.')
	_, err = readBytes(zipFile(t, [2]string{"m/data.pkl", p.String()}), "nodata.pt")
	checkErr(t, err, "nodata.pt", `storage "0": archive has no m/data/0`)
	_, err = readBytes(zipFile(t, [2]string{"m/data.pkl", p.String()}, [2]string{"m/data/0", "abc"}), "short.pt")
	checkErr(t, err, "short.pt", `truncated: storage "0" needs 8 bytes`)
	f, err := readBytes(zipFile(t, [2]string{"m/data.pkl", p.String()}, [2]string{"m/data/0", string(float32s(1.5, -2))}), "ok.pt")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Tensors["w"].Data; !reflect.DeepEqual(got, []float32{1.5, -2}) {
		t.Errorf("w = %v", got)
	}
	// A tensor reaching past its storage.
	var q pickler
	q.proto(2).op('}').str("w").tensor("FloatStorage", "0", 2, nil, 1, []int32{2}, []int32{1}).op('s', '.')
	_, err = readBytes(zipFile(t, [2]string{"m/data.pkl", q.String()}, [2]string{"m/data/0", string(float32s(1, 2))}), "past.pt")
	checkErr(t, err, "past.pt", `tensor "w"`, "reach past the 2 elements")
}

func TestSafetensorsLies(t *testing.T) {
	buf := float32s(1, 2, 3, 4, 5, 6)
	type e = map[string]any
	cases := []struct {
		name   string
		header any
		want   string
	}{
		{"past_end", e{"a": e{"dtype": "F32", "shape": []int{8}, "data_offsets": []int{0, 32}}}, "lie outside the 24-byte buffer"},
		{"overlap", e{"a": e{"dtype": "F32", "shape": []int{4}, "data_offsets": []int{0, 16}}, "b": e{"dtype": "F32", "shape": []int{4}, "data_offsets": []int{8, 24}}}, `"a" and "b" overlap at byte 8`},
		{"wrong_size", e{"a": e{"dtype": "F32", "shape": []int{3}, "data_offsets": []int{0, 16}}}, "span 16 bytes, shape [3] of float32 needs 12"},
		{"reversed", e{"a": e{"dtype": "F32", "shape": []int{0}, "data_offsets": []int{8, 4}}}, "lie outside"},
		{"negative", e{"a": e{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{-4, 0}}}, "lie outside"},
		{"negative_shape", e{"a": e{"dtype": "F32", "shape": []int{-1, -4}, "data_offsets": []int{0, 16}}}, "bad shape"},
		{"huge_shape", e{"a": e{"dtype": "F32", "shape": []int{1 << 40, 1 << 40}, "data_offsets": []int{0, 16}}}, "bad shape"},
		{"dtype", e{"a": e{"dtype": "F8_E4M3", "shape": []int{1}, "data_offsets": []int{0, 1}}}, `unsupported dtype "F8_E4M3"`},
		{"offsets", e{"a": e{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0}}}, "data_offsets has 1 values"},
		{"metadata", e{"__metadata__": e{"n": 3}}, "__metadata__ is not a map of strings"},
		{"not_object", []int{1, 2}, "unrecognised format"},
		{"not_entry", e{"a": 1}, `safetensors tensor "a"`},
		{"gap", e{"a": e{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 8}}, "b": e{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{16, 24}}}, "bytes 8 to 16 belong to no tensor"},
		{"tail", e{"a": e{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 8}}}, "bytes 8 to 24 belong to no tensor"},
	}
	for _, c := range cases {
		_, err := readBytes(safetensorsFile(t, c.header, buf), c.name+".safetensors")
		checkErr(t, err, c.name+".safetensors", c.want)
	}
	// A header length beyond the file.
	b := safetensorsFile(t, e{}, nil)
	b[0] = 200
	_, err := readBytes(b, "long.safetensors")
	checkErr(t, err, "long.safetensors", "truncated: safetensors header of 200 bytes")
}

// TestLegacyVariants covers what old and new torch versions write that the fixtures do not:
// storage views, untyped storages with _rebuild_tensor_v3, pre-1.0 Parameters, the "net" key,
// numpy scalars from Python 2.
func TestLegacyVariants(t *testing.T) {
	var r pickler
	r.proto(2).op('}', '(')
	r.str("epoch").int(7)
	// A numpy float64 scalar as Python 2 pickles it: its bytes are a str.
	r.str("best_prec1").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").str("f8").op(0x89, 0x88, 0x87, 'R')
	r.op('(').int(3).str("<").op('N', 'N', 'N').int(-1).int(-1).int(0).op('t', 'b')
	r.op('U', 8).op(0, 0, 0, 0, 0, 0x40, 0x57, 0x40).op(0x86, 'R') // 93.0 as Python 2 str bytes
	r.str("net").op('}', '(')
	// A legacy storage view: elements 2..4 of root "r", then the tensor's offset 1 within it.
	r.str("view").tensor("FloatStorage", "r", 6, []int32{2, 3}, 1, []int32{2}, []int32{1})
	// An untyped storage read as float16 (torch 2.x): 1.0, -2.0, 0.5 and a subnormal.
	r.str("half").global("torch._utils", "_rebuild_tensor_v3").op('(')
	r.op('(').str("storage").global("torch", "UntypedStorage").str("u").str("cpu").int(8).op('N', 't', 'Q')
	r.int(0).ints(2, 2).ints(1, 2).op(0x89).global("collections", "OrderedDict").op(')', 'R').global("torch", "float16").op('t', 'R')
	// Before torch 1.0: Parameter(tensor) then BUILD with (requires_grad, volatile, hooks).
	r.str("param").global("torch.nn.parameter", "Parameter")
	r.global("torch._utils", "_rebuild_tensor").op('(').op('(').str("storage").global("torch.cuda", "LongStorage").str("l").str("cuda:0").int(3).op('N', 't', 'Q')
	r.int(0).ints(3).ints(1).op('t', 'R', 0x85, 'R', 0x88, 0x89, 'N', 0x87, 'b')
	r.op('u', 'u', '.')

	halves := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x01, 0x00}
	longs := []byte{5, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0}
	file := legacyFile(r.Bytes(),
		rawStorage{"r", float32s(0, 1, 2, 3, 4, 5), 4},
		rawStorage{"u", halves, 1},
		rawStorage{"l", longs, 8})
	f, err := readBytes(file, "variants.pth")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"view", "half", "param"}; !reflect.DeepEqual(f.Names, want) {
		t.Errorf("names %q, want %q", f.Names, want)
	}
	if got := f.Tensors["view"].Data; !reflect.DeepEqual(got, []float32{3, 4}) {
		t.Errorf("view = %v, want [3 4]", got)
	}
	// Shape (2,2) with strides (1,2) over [1, -2, 0.5, 2^-24] is the transpose.
	if got, want := f.Tensors["half"].Data, []float32{1, 0.5, -2, 1.0 / (1 << 24)}; !reflect.DeepEqual(got, want) {
		t.Errorf("half = %v, want %v", got, want)
	}
	if got, want := f.Tensors["param"].Data, []float32{5, -2, 1 << 24}; !reflect.DeepEqual(got, want) {
		t.Errorf("param = %v, want %v", got, want)
	}
	if want := map[string]string{"epoch": "7", "best_prec1": "93"}; !reflect.DeepEqual(f.Meta, want) {
		t.Errorf("meta %v, want %v", f.Meta, want)
	}

	// The storage count must match the pickle's element count.
	bad := legacyFile(r.Bytes(),
		rawStorage{"r", float32s(0, 1, 2, 3, 4), 4},
		rawStorage{"u", halves, 1},
		rawStorage{"l", longs, 8})
	_, err = readBytes(bad, "count.pth")
	checkErr(t, err, "count.pth", `storage "r" holds 5 elements, the pickle says 6`)
	// A storage the key list names but the pickle never does.
	extra := legacyFile(r.Bytes(), rawStorage{"zz", float32s(1), 4})
	_, err = readBytes(extra, "extra.pth")
	checkErr(t, err, "extra.pth", `storage "zz" is listed but the pickle never names it`)
	// A storage claiming more than the file holds is refused before any allocation.
	var huge pickler
	huge.proto(2).op('}').str("w").tensor("FloatStorage", "0", 1<<30, nil, 0, []int32{2}, []int32{1}).op('s', '.')
	_, err = readBytes(legacyFile(huge.Bytes()), "huge.pth")
	checkErr(t, err, "huge.pth", `storage "0" claims 1073741824 elements of float32, more than the`)
	// Zero strides cannot blow a small storage up into a huge tensor.
	var bomb pickler
	bomb.proto(2).op('}').str("w").tensor("FloatStorage", "0", 1, nil, 0, []int32{1 << 20, 1 << 10}, []int32{0, 0}).op('s', '.')
	_, err = readBytes(legacyFile(bomb.Bytes(), rawStorage{"0", float32s(1), 4}), "bomb.pth")
	checkErr(t, err, "bomb.pth", "more elements than the file can hold")
}

func TestNotAStateDict(t *testing.T) {
	var p pickler
	p.proto(2).op('}').str("epoch").int(3).op('s').str("note").str("hi").op('s', '.')
	_, err := readBytes(legacyFile(p.Bytes()), "nostate.pth")
	checkErr(t, err, "nostate.pth", `no state dict: top-level dict has no tensors and keys "epoch", "note"`)
	var q pickler
	q.proto(2).int(42).op('.')
	_, err = readBytes(legacyFile(q.Bytes()), "int.pth")
	checkErr(t, err, "int.pth", "top-level object is a int")
	// A module that contains itself.
	var c pickler
	c.proto(2).global("m", "Net").op(')', 0x81, 'q', 0).op('}', '(')
	c.str("_parameters").op('}').str("_modules").op('}').str("self").op('h', 0, 's', 'u', 'b', '.')
	_, err = readBytes(legacyFile(c.Bytes()), "cycle.pth")
	checkErr(t, err, "cycle.pth", `contains itself`)
}

// TestAmplification checks the bounds against small pickles that ask for huge work or memory
// through the memo: the same module along 2^40 paths, and the same dict copied again and again.
func TestAmplification(t *testing.T) {
	var dag pickler
	dag.proto(2)
	for i := 0; i < 40; i++ {
		dag.global("m", "Node").op(')', 0x81).op('}', '(').str("_parameters").op('}').str("_modules").op('}', '(')
		if i > 0 {
			dag.str("a").op('h', byte(i-1)).str("b").op('h', byte(i-1))
		}
		dag.op('u', 'u', 'b', 'q', byte(i))
	}
	dag.op('.')
	_, err := readBytes(legacyFile(dag.Bytes()), "dag.pth")
	checkErr(t, err, "dag.pth", "more tensor names than a checkpoint of its size can hold")

	// A 1000-entry dict, then OrderedDict(d) 20000 times.
	var cp pickler
	cp.proto(2).op('}', 'q', 0, '(')
	for i := 0; i < 1000; i++ {
		cp.int(int32(i)).op('N')
	}
	cp.op('u').global("collections", "OrderedDict").op('q', 1, '0', ']', '(')
	for i := 0; i < 20000; i++ {
		cp.op('h', 1, 'h', 0, 0x85, 'R')
	}
	cp.op('e', '.')
	_, err = readBytes(legacyFile(cp.Bytes()), "copy.pth")
	// The copies' memory is charged to the pickle's budget, which runs out before the count of
	// copied items does.
	checkErr(t, err, "copy.pth", "take more memory than a pickle of its size may")

	// The same 1000-attribute state given to an object by BUILD 20000 times.
	var bd pickler
	bd.proto(2).op('}', 'q', 0, '(')
	for i := 0; i < 1000; i++ {
		bd.str(fmt.Sprint("a", i)).op('N')
	}
	bd.op('u').global("m", "Obj").op(')', 0x81)
	for i := 0; i < 20000; i++ {
		bd.op('h', 0, 'b')
	}
	bd.op('.')
	_, err = readBytes(legacyFile(bd.Bytes()), "build.pth")
	checkErr(t, err, "build.pth", "copies more state than the pickle's size allows")
}
