package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// The fixtures are written by testdata/gen_onnx.py with PyTorch 1.13: the small ones are
// committed (testdata/small.json), the large ones (torchvision models, the seed's networks
// through ONNX) go to the folder largeFixtures names.

// Thresholds of agreement with PyTorch (issue 12).
const (
	logitRel  = 1e-4 // × max(1, max |logit|)
	signAgree = 0.999
	odinTol   = 2e-6
)

// signFloor is what the large tests assert for input-gradient signs against PyTorch's float32
// gradient. On the deeper random networks the sign of an input-gradient element flips with
// float32 rounding wherever a ReLU input or a max pool's runner-up is within rounding of the
// winner, so two float32 gradients need not reach signAgree. What is asserted besides is that
// odin is as exact as PyTorch: against PyTorch's float64 gradient (testdata/gen_onnx.py writes
// it), odin's float32 signs agree at least as often as PyTorch's float32 signs, less signMargin,
// over the fixture's eight images per model.
const (
	signFloor  = 0.995
	signMargin = 0.001
)

type fixtureIndex struct {
	TorchVersion string    `json:"torch_version"`
	Temperature  float64   `json:"temperature"`
	Epsilon      float64   `json:"epsilon"`
	Models       []fixture `json:"models"`
	Checkpoints  []struct {
		Name, File, Folded, Checkpoint string
	} `json:"checkpoints"`
}

type fixture struct {
	Name      string      `json:"name"`
	Images    int         `json:"images"`
	Shape     []int       `json:"shape"`
	InputFile string      `json:"input_file"`
	GradFile  string      `json:"grad_file"`
	Std       []float64   `json:"std"`
	Logits    [][]float64 `json:"logits"`
	// Logits64 are the logits of the float64 copy of the model that the float64 gradient comes
	// from (large fixtures only).
	Logits64    [][]float64       `json:"logits64"`
	Predictions []int             `json:"predictions"`
	Odin        []float64         `json:"odin"`
	Baseline    []float64         `json:"baseline"`
	Files       map[string]string `json:"files"`
	// Grad64File holds PyTorch's float64 input gradient (float64 little-endian), absent from the
	// small fixtures.
	Grad64File string `json:"grad64_file"`
	// TorchSigns64 is the fraction of PyTorch's float32 signs equal to its float64 ones, as the
	// generator computed it.
	TorchSigns64 float64 `json:"torch_signs_vs_float64"`
	// Arch and StateDict: a network odin also reads from a PyTorch state_dict.
	Arch      string    `json:"arch"`
	StateDict string    `json:"state_dict"`
	Mean      []float64 `json:"mean"`
}

func readIndex(t testing.TB, path string) *fixtureIndex {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ix fixtureIndex
	if err := json.Unmarshal(b, &ix); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &ix
}

func readFloat32s(t testing.TB, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 4*n)
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

func readFloat64s(t testing.TB, path string, n int) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 8*n)
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return x
}

// signsEqual is the fraction of elements whose signs agree, as ODIN takes them (sign(0) = +1).
func signsEqual[A, B float32 | float64](a []A, b []B) float64 {
	same := 0
	for i, v := range a {
		if (v >= 0) == (b[i] >= 0) {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// agreement is how far odin is from PyTorch on one fixture.
type agreement struct {
	logit, logitScale float64 // max |Δlogit| and max(1, max |logit|)
	// Images whose PyTorch float32 logits are further than the logit limit from its float64
	// ones are measured against the float64 logits instead: odin's and PyTorch's float32 largest
	// distances from them, and the largest ratio of odin's distance to PyTorch's on an image.
	illConditioned          []int
	odinFrom64, torchFrom64 float64
	ratio64                 float64
	signs                   float64 // fraction of input-gradient signs that agree
	odin                    float64 // max |Δ ODIN score|
	// With a float64 gradient in the fixture: the fractions of odin's and of PyTorch's float32
	// signs that agree with it.
	has64                 bool
	signs64, torchSigns64 float64
	err                   error
}

func (a agreement) ok(signs float64) bool {
	return a.err == nil && a.logit <= logitRel*a.logitScale && a.ratio64 <= illFactor && a.signs >= signs && a.odin <= odinTol
}

// asExact says whether odin's gradient signs agree with PyTorch's float64 gradient at least as
// often as PyTorch's float32 ones do, less signMargin (true without a float64 gradient).
func (a agreement) asExact() bool {
	return !a.has64 || a.signs64 >= a.torchSigns64-signMargin
}

func (a agreement) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	s := fmt.Sprintf("max |Δlogit| %.2e (limit %.1e), signs agree %.4f%%, max |Δodin| %.2e", a.logit,
		logitRel*a.logitScale, 100*a.signs, a.odin)
	if len(a.illConditioned) > 0 {
		s += fmt.Sprintf(" (images %v: PyTorch float32 %.2e from float64 logits, odin %.2e)", a.illConditioned, a.torchFrom64, a.odinFrom64)
	}
	if a.has64 {
		s += fmt.Sprintf("; signs equal to PyTorch's float64 gradient: odin %.4f%%, PyTorch float32 %.4f%%", 100*a.signs64, 100*a.torchSigns64)
	}
	return s
}

// illFactor bounds odin's distance from the float64 logits, as a multiple of PyTorch's float32
// distance, on an image where PyTorch's float32 logits miss the limit themselves. Such an image
// amplifies rounding enormously (efficientnet_b0's image 2 of the fixtures: logits up to 157, and
// PyTorch's float32 logits 0.1 from float64), and there odin runs different weights by a few ulps:
// the exported file's batch norms are folded into the convolutions in float32. The generator's
// code, run again in another process, gave float64 logits 0.06 away from the fixture's on that
// image (2026-12-03): its float64 reference itself is that uncertain.
const illFactor = 2

// compareLogits measures odin's logits (n × k, row-major) against the fixture's: against
// PyTorch's float32 logits, except on images where those are themselves further than the limit
// from the float64 model's, where odin's distance from the float64 logits is compared with
// PyTorch's float32 one (see illFactor), as gradient signs are held to "as exact as PyTorch".
func (a *agreement) compareLogits(fx *fixture, got []float32, n, k int) error {
	a.logitScale = 1
	for i := range n {
		if len(fx.Logits[i]) != k {
			return fmt.Errorf("%d classes, fixture %d", k, len(fx.Logits[i]))
		}
		for _, w := range fx.Logits[i] {
			a.logitScale = max(a.logitScale, math.Abs(w))
		}
	}
	dist := func(i int, ref []float64, f func(j int) float64) float64 {
		d := 0.0
		for j, w := range ref {
			d = max(d, math.Abs(f(j)-w))
		}
		return d
	}
	for i := range n {
		odin := func(j int) float64 { return float64(got[i*k+j]) }
		if i < len(fx.Logits64) && len(fx.Logits64[i]) == k {
			torch := dist(i, fx.Logits64[i], func(j int) float64 { return fx.Logits[i][j] })
			if torch > logitRel*a.logitScale {
				o := dist(i, fx.Logits64[i], odin)
				a.illConditioned = append(a.illConditioned, i)
				a.odinFrom64, a.torchFrom64 = max(a.odinFrom64, o), max(a.torchFrom64, torch)
				a.ratio64 = max(a.ratio64, o/torch)
				continue
			}
		}
		a.logit = max(a.logit, dist(i, fx.Logits[i], odin))
	}
	return nil
}

// compare runs the model on the fixture's images as the ODIN detector does and measures the
// differences from PyTorch's outputs.
func compare(t testing.TB, m *models.Model, fx *fixture, dir string, T, eps float64) agreement {
	t.Helper()
	in := m.Graph.Input()
	size := in.Size()
	if len(fx.Shape) == 3 && (fx.Shape[0] != in.C || fx.Shape[1] != in.H || fx.Shape[2] != in.W) {
		return agreement{err: fmt.Errorf("input %v, fixture %v", in, fx.Shape)}
	}
	n := fx.Images
	x := readFloat32s(t, filepath.Join(dir, fx.InputFile), n*size)
	want := readFloat32s(t, filepath.Join(dir, fx.GradFile), n*size)
	for c := range min(3, len(fx.Std)) {
		m.Std[c] = float32(fx.Std[c])
	}
	b := ood.NewBatch(m, m.Graph.NewExec(n))
	if err := b.LoadNormalized(x, n); err != nil {
		return agreement{err: err}
	}
	var a agreement
	if err := a.compareLogits(fx, b.Logits, n, m.Classes()); err != nil {
		return agreement{err: err}
	}
	g, err := ood.InputGradient(b, T)
	if err != nil {
		return agreement{err: err}
	}
	a.signs = signsEqual(g[:n*size], want)
	if fx.Grad64File != "" {
		g64 := readFloat64s(t, filepath.Join(dir, fx.Grad64File), n*size)
		a.has64 = true
		a.signs64 = signsEqual(g[:n*size], g64)
		a.torchSigns64 = signsEqual(want, g64)
	}
	scores := make([]float64, n)
	if err := ood.ScorePerturbed(b, g, T, eps, scores); err != nil {
		return agreement{err: err}
	}
	for i, s := range scores {
		a.odin = max(a.odin, math.Abs(s-fx.Odin[i]))
	}
	return a
}

func TestSmallAgreesWithPyTorch(t *testing.T) {
	ix := readIndex(t, filepath.Join("testdata", "small.json"))
	for _, fx := range ix.Models {
		for _, op := range []string{"9", "13", "17"} {
			file := fx.Files[op]
			if file == "" {
				t.Fatalf("%s: no opset %s file", fx.Name, op)
			}
			m, rep, err := Load(filepath.Join("testdata", file), Options{})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(rep.Notes) != 1 {
				t.Errorf("%s: notes %q, want one about the removed Softmax", file, rep.Notes)
			}
			if _, ok := m.Graph.Taps()["features"]; !ok {
				t.Errorf("%s: no features tap", file)
			}
			a := compare(t, m, &fx, "testdata", ix.Temperature, ix.Epsilon)
			t.Logf("%s: %v", file, a)
			if !a.ok(signAgree) {
				t.Errorf("%s: %v", file, a)
			}
		}
	}
}

// TestCompareLogits checks the logit rule on made-up logits: PyTorch's float32 logits are the
// reference unless they are themselves further than the limit from the float64 ones.
func TestCompareLogits(t *testing.T) {
	fx := &fixture{
		Logits:   [][]float64{{1, 2}, {50, 3}},
		Logits64: [][]float64{{1, 2}, {50.2, 3}}, // image 1: PyTorch float32 is 0.2 off
	}
	for _, c := range []struct {
		got      []float32
		ok       bool
		ill, why string
	}{
		{[]float32{1.001, 2, 50.1, 3}, true, "[1]", "odin 0.1 from float64 on image 1, PyTorch 0.2"},
		{[]float32{1.01, 2, 50.1, 3}, false, "[1]", "image 0 is 0.01 from PyTorch, limit 0.005"},
		{[]float32{1, 2, 49.9, 3}, true, "[1]", "odin 0.3 from float64 on image 1, PyTorch 0.2"},
		{[]float32{1, 2, 49.7, 3}, false, "[1]", "odin 0.5 from float64 on image 1, PyTorch 0.2"},
	} {
		var a agreement
		a.signs = 1
		if err := a.compareLogits(fx, c.got, 2, 2); err != nil {
			t.Fatal(err)
		}
		if a.ok(1) != c.ok || fmt.Sprint(a.illConditioned) != c.ill {
			t.Errorf("%s: ok %v, ill-conditioned %v; want %v, %s (%v)", c.why, a.ok(1), a.illConditioned, c.ok, c.ill, a)
		}
	}
	if err := (&agreement{}).compareLogits(fx, make([]float32, 6), 2, 3); err == nil {
		t.Error("3 classes against a fixture of 2: no error")
	}
}
