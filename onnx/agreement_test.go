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

// signFloor is what the torchvision tests assert for input-gradient signs. On the deeper
// random networks the sign of an input gradient element flips with float32 rounding wherever a
// ReLU input or a max-pool's runner-up is within rounding of the winner: PyTorch's own float32
// gradient agrees with its float64 gradient on only 99.65% (resnet50) and 99.92% (googlenet) of
// elements (measured on these fixtures), so signAgree is reported, and signFloor asserted.
const signFloor = 0.995

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
	Name        string            `json:"name"`
	Images      int               `json:"images"`
	Shape       []int             `json:"shape"`
	InputFile   string            `json:"input_file"`
	GradFile    string            `json:"grad_file"`
	Std         []float64         `json:"std"`
	Logits      [][]float64       `json:"logits"`
	Predictions []int             `json:"predictions"`
	Odin        []float64         `json:"odin"`
	Baseline    []float64         `json:"baseline"`
	Files       map[string]string `json:"files"`
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

// agreement is how far odin is from PyTorch on one fixture.
type agreement struct {
	logit, logitScale float64 // max |Δlogit| and max(1, max |logit|)
	signs             float64 // fraction of input-gradient signs that agree
	odin              float64 // max |Δ ODIN score|
	err               error
}

func (a agreement) ok(signs float64) bool {
	return a.err == nil && a.logit <= logitRel*a.logitScale && a.signs >= signs && a.odin <= odinTol
}

func (a agreement) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("max |Δlogit| %.2e (limit %.1e), signs agree %.4f%%, max |Δodin| %.2e", a.logit,
		logitRel*a.logitScale, 100*a.signs, a.odin)
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
	k := m.Classes()
	a.logitScale = 1
	for i := range n {
		if len(fx.Logits[i]) != k {
			return agreement{err: fmt.Errorf("%d classes, fixture %d", k, len(fx.Logits[i]))}
		}
		for j, w := range fx.Logits[i] {
			a.logit = max(a.logit, math.Abs(float64(b.Logits[i*k+j])-w))
			a.logitScale = max(a.logitScale, math.Abs(w))
		}
	}
	g, err := ood.InputGradient(b, T)
	if err != nil {
		return agreement{err: err}
	}
	same := 0
	for i, v := range g[:n*size] {
		if (v >= 0) == (want[i] >= 0) {
			same++
		}
	}
	a.signs = float64(same) / float64(n*size)
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
