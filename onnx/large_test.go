package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// largeFixtures returns the folder of the fixtures that testdata/gen_onnx.py writes without
// --small: $ODIN_ONNX_FIXTURES, else <user cache>/odin/onnx-fixtures. A missing folder skips the
// test on a developer machine and fails it when CI=true.
func largeFixtures(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ODIN_ONNX_FIXTURES")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(cache, "odin", "onnx-fixtures")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		msg := "ONNX fixtures missing (" + err.Error() + "): make them with /usr/bin/python3 onnx/testdata/gen_onnx.py (python3-torch, python3-torchvision; 5 minutes of CPU, 800 MB), or set ODIN_ONNX_FIXTURES"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// TestTorchvisionAgreesWithPyTorch runs every torchvision model of the large fixtures, at each
// opset, against PyTorch's logits, input-gradient signs and ODIN scores.
func TestTorchvisionAgreesWithPyTorch(t *testing.T) {
	dir := largeFixtures(t)
	ix := readIndex(t, filepath.Join(dir, "index.json"))
	if len(ix.Models) == 0 {
		t.Fatal("index.json lists no models")
	}
	for i := range ix.Models {
		fx := &ix.Models[i]
		for _, op := range []string{"13", "17"} {
			file := fx.Files[op]
			t.Run(fx.Name+"-op"+op, func(t *testing.T) {
				if file == "" {
					t.Fatalf("no opset %s file", op)
				}
				m, rep, err := Load(filepath.Join(dir, file), Options{})
				if err != nil {
					t.Fatal(err)
				}
				a := compare(t, m, fx, dir, ix.Temperature, ix.Epsilon)
				t.Logf("%s: %v; features %s", file, a, rep.Features)
				if !a.ok(signFloor) {
					t.Error(a)
				} else if a.signs < signAgree {
					t.Logf("%s: signs agree on %.4f%%, below the goal of %.1f%%", file, 100*a.signs, 100*signAgree)
				}
			})
		}
	}
}
