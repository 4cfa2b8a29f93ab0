package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSmallNetRuns(t *testing.T) {
	m, rep, err := Decode(encModel(13, smallNet(nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := m.Graph.NewExec(1)
	x := make([]float32, 16)
	for i := range x {
		x[i] = 1
	}
	if err := e.Forward(x, 1); err != nil {
		t.Fatal(err)
	}
	got := e.Logits(nil)
	want := []float32{1.5, -1, -0.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logits %v, want %v", got, want)
		}
	}
	if rep.Params != 2+6+3 || rep.FLOPs != 2*2*16+2*6 || rep.Batch != "N" {
		t.Errorf("report: params %d, FLOPs %d, batch %q", rep.Params, rep.FLOPs, rep.Batch)
	}
	if rep.Features != "f (2×1×1)" {
		t.Errorf("features %q", rep.Features)
	}
}

// checkBad asserts a one-line error that mentions want.
func checkBad(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error of several lines: %q", what, msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s: error %q does not mention %q", what, msg, want)
	}
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "tiny-op13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Decode(good[:len(good)/2], Options{})
	checkBad(t, "truncated file", err, "")
	_, _, err = Decode(good[:len(good)-3], Options{})
	checkBad(t, "truncated end", err, "")

	// The graph (field 7) as a varint.
	wrong := pbVarint(pbVarint(nil, 1, 8), 7, 5)
	_, _, err = Decode(wrong, Options{})
	checkBad(t, "wrong wire type", err, "wire type")

	cases := []struct {
		name string
		g    graphSpec
		opt  Options
		want string
	}{
		{"dims disagree with data", smallNet(encTensor("w", typeFloat, []int64{2, 1, 1, 2}, floatRaw(1, -1), nil)), Options{}, "need 16 bytes"},
		{"dims overflow", smallNet(encTensor("w", typeFloat, []int64{1 << 40, 1 << 40, 1 << 40}, floatRaw(1, -1), nil)), Options{}, "exceed the limit"},
		{"dims beyond the memory bound", smallNet(encTensor("w", typeFloat, []int64{1 << 20, 1 << 20}, nil, nil)), Options{}, "exceed the limit"},
		{"negative dim", smallNet(encTensor("w", typeFloat, []int64{2, -1, 1, 1}, floatRaw(1, -1), nil)), Options{}, "negative dimension"},
		{"external data leaving the folder", smallNet(encTensor("w", typeFloat, []int64{2, 1, 1, 1}, nil,
			map[string]string{"location": "../../etc/passwd"})), Options{}, "leaves the model's folder"},
		{"absolute external data", smallNet(encTensor("w", typeFloat, []int64{2, 1, 1, 1}, nil,
			map[string]string{"location": "/etc/passwd"})), Options{}, "leaves the model's folder"},
		{"cycle", func() graphSpec {
			g := smallNet(nil)
			g.nodes[1] = encNode("Add", "loop1", []string{"c", "q"}, []string{"p"})
			g.nodes = append(g.nodes, encNode("Relu", "loop2", []string{"p"}, []string{"q"}))
			return g
		}(), Options{}, "cycle"},
		{"unsupported operators", smallNet(nil,
			encNode("NonZero", "nz", []string{"y"}, []string{"z1"}),
			encNode("NonZero", "nz2", []string{"y"}, []string{"z2"}),
			encNode("TopK", "top", []string{"y"}, []string{"z3"})), Options{},
			"unsupported operators: NonZero (node nz), TopK (node top)"},
		{"not an image", func() graphSpec {
			g := smallNet(nil)
			g.inputs[0] = encValueInfo("x", "N", 16)
			return g
		}(), Options{}, "not an image tensor [N,C,H,W]"},
		{"symbolic plane", func() graphSpec {
			g := smallNet(nil)
			g.inputs[0] = encValueInfo("x", "N", 1, "h", "w")
			return g
		}(), Options{}, "symbolic"},
		{"undefined value", smallNet(nil, encNode("Relu", "r", []string{"nothing"}, []string{"z"})), Options{}, "nothing defines"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, "m.onnx")
		if err := os.WriteFile(path, encModel(13, c.g), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(path, c.opt)
		checkBad(t, c.name, err, c.want)
	}
	_, _, err = Decode(encModel(3, smallNet(nil)), Options{})
	checkBad(t, "opset 3", err, "opset 3 not supported")
}

// TestSymbolicInputShape gives the plane that the model leaves symbolic.
func TestSymbolicInputShape(t *testing.T) {
	g := smallNet(nil)
	g.inputs[0] = encValueInfo("x", "N", 1, "h", "w")
	m, _, err := Decode(encModel(13, g), Options{InputShape: []int{1, 6, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Graph.Input(); s.C != 1 || s.H != 6 || s.W != 5 {
		t.Fatalf("input %v", s)
	}
	_, _, err = Decode(encModel(13, g), Options{InputShape: []int{3, 6, 5}})
	checkBad(t, "disagreeing channels", err, "dimension 1 is 1 in the model, 3 given")
}

// TestExternalData reads weights from a file beside the model, and refuses a symbolic link that
// leads out of the model's folder.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	data := append(make([]byte, 8), floatRaw(1, -1)...)
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	w := encTensor("w", typeFloat, []int64{2, 1, 1, 1}, nil, map[string]string{"location": "w.bin", "offset": "8", "length": "8"})
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, encModel(13, smallNet(w)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path, Options{}); err != nil {
		t.Fatal(err)
	}
	_, _, err := Decode(encModel(13, smallNet(w)), Options{})
	checkBad(t, "external data from memory", err, "not read from a file")

	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link.bin")); err != nil {
		t.Skip(err)
	}
	w = encTensor("w", typeFloat, []int64{2, 1, 1, 1}, nil, map[string]string{"location": "link.bin", "offset": "8"})
	if err := os.WriteFile(path, encModel(13, smallNet(w)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Load(path, Options{})
	checkBad(t, "symbolic link out of the folder", err, "external data")
	w = encTensor("w", typeFloat, []int64{2, 1, 1, 1}, nil, map[string]string{"location": "w.bin", "offset": "12"})
	if err := os.WriteFile(path, encModel(13, smallNet(w)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Load(path, Options{})
	checkBad(t, "external data past the end", err, "outside the file")
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"tiny-op9.onnx", "tiny-op13.onnx"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encModel(13, smallNet(nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := Decode(b, Options{MaxTensorElements: 1 << 20})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if m.Graph == nil {
			t.Fatal("no graph and no error")
		}
	})
}
