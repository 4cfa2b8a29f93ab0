package onnx

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
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
		msg := "ONNX fixtures missing (" + err.Error() + "): make them with /usr/bin/python3 onnx/testdata/gen_onnx.py (python3-torch, python3-torchvision; 11 to 14 minutes on a busy 2-core host, 1.1 GB), or set ODIN_ONNX_FIXTURES"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// TestTorchvisionAgreesWithPyTorch runs every model of the large fixtures (the torchvision
// models at 224×224 and OpenOOD's ResNet18_32x32 at 32×32), at each opset, against PyTorch's
// logits, input-gradient signs and ODIN scores, and measures both float32 gradients' signs
// against PyTorch's float64 gradient.
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
				if fx.Grad64File == "" || len(fx.Logits64) != fx.Images {
					t.Fatal("no float64 gradient or logits: fixtures from an older testdata/gen_onnx.py; run it again")
				}
				m, rep, err := Load(filepath.Join(dir, file), Options{})
				if err != nil {
					t.Fatal(err)
				}
				a := compare(t, m, fx, dir, ix.Temperature, ix.Epsilon)
				t.Logf("%s: %v; features %s", file, a, rep.Features)
				if math.Abs(a.torchSigns64-fx.TorchSigns64) > 1e-12 {
					t.Errorf("PyTorch's float32 signs agree with its float64 ones on %.6f%% as read here, %.6f%% in index.json", 100*a.torchSigns64, 100*fx.TorchSigns64)
				}
				if !a.ok(signFloor) {
					t.Error(a)
				} else if a.signs < signAgree {
					t.Logf("%s: signs agree on %.4f%%, below the goal of %.1f%%", file, 100*a.signs, 100*signAgree)
				}
				if !a.asExact() {
					t.Errorf("%s: gradient signs equal to PyTorch's float64 ones on %.4f%%, PyTorch's float32 on %.4f%%: odin is less exact than PyTorch (margin %.1f points)", file, 100*a.signs64, 100*a.torchSigns64, 100*signMargin)
				}
			})
		}
	}
}

// TestOpenOODStateDictAgreesWithONNX reads the same random ResNet18_32x32 twice, from its
// state_dict with --arch openood_resnet18_32x32 and from its ONNX exports, and checks that both
// give PyTorch's outputs and the same logits and ODIN scores as each other.
func TestOpenOODStateDictAgreesWithONNX(t *testing.T) {
	dir := largeFixtures(t)
	ix := readIndex(t, filepath.Join(dir, "index.json"))
	var fx *fixture
	for i := range ix.Models {
		if ix.Models[i].Arch == models.ArchOpenOODResNet18 && ix.Models[i].StateDict != "" {
			fx = &ix.Models[i]
		}
	}
	if fx == nil {
		t.Fatal("index.json lists no OpenOOD ResNet18_32x32 with its state_dict: fixtures from an older testdata/gen_onnx.py; run it again")
	}
	ref, err := models.Load(filepath.Join(dir, fx.StateDict), models.ArchOpenOODResNet18)
	if err != nil {
		t.Fatal(err)
	}
	a := compare(t, ref, fx, dir, ix.Temperature, ix.Epsilon)
	t.Logf("%s: %v", fx.StateDict, a)
	if !a.ok(signFloor) || !a.asExact() {
		t.Errorf("%s against PyTorch: %v", fx.StateDict, a)
	}
	f0, o0 := logitsAndODIN(t, ref, fx, dir, ix.Temperature, ix.Epsilon)
	for _, op := range []string{"13", "17"} {
		m, _, err := Load(filepath.Join(dir, fx.Files[op]), Options{Mean: ref.Mean, Std: ref.Std})
		if err != nil {
			t.Fatal(err)
		}
		f1, o1 := logitsAndODIN(t, m, fx, dir, ix.Temperature, ix.Epsilon)
		var df, scale, do float64 = 0, 1, 0
		for i := range f0 {
			df = max(df, math.Abs(float64(f0[i]-f1[i])))
			scale = max(scale, math.Abs(float64(f0[i])))
		}
		for i := range o0 {
			do = max(do, math.Abs(o0[i]-o1[i]))
		}
		t.Logf("%s against the state_dict: max |Δlogit| %.2e (limit %.1e), max |Δodin| %.2e", fx.Files[op], df, logitRel*scale, do)
		if df > logitRel*scale || do > odinTol {
			t.Errorf("%s against the state_dict: max |Δlogit| %.2e (limit %.1e), max |Δodin| %.2e (limit %.0e)", fx.Files[op], df, logitRel*scale, do, odinTol)
		}
	}
}

// logitsAndODIN runs the fixture's normalised images through m: logits and ODIN scores.
func logitsAndODIN(t testing.TB, m *models.Model, fx *fixture, dir string, T, eps float64) ([]float32, []float64) {
	t.Helper()
	n, size := fx.Images, m.Graph.Input().Size()
	x := readFloat32s(t, filepath.Join(dir, fx.InputFile), n*size)
	b := ood.NewBatch(m, m.Graph.NewExec(n))
	if err := b.LoadNormalized(x, n); err != nil {
		t.Fatal(err)
	}
	logits := append([]float32(nil), b.Logits[:n*m.Classes()]...)
	g, err := ood.InputGradient(b, T)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, n)
	if err := ood.ScorePerturbed(b, g, T, eps, scores); err != nil {
		t.Fatal(err)
	}
	return logits, scores
}
