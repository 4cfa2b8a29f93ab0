package models

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// The fixtures in testdata are written by testdata/gen_torch.py with PyTorch 1.13 (see its doc).

// torchFixtures mirrors testdata/fixtures.json.
type torchFixtures struct {
	TorchVersion string  `json:"torch_version"`
	Temperature  float64 `json:"temperature"`
	Epsilon      float64 `json:"epsilon"`
	Accuracy     map[string]struct {
		Images, Correct int
		Percent         float64
	} `json:"accuracy"`
	First500 struct {
		Network         string
		Images, Correct int
		Predictions     []int
	} `json:"first500"`
	Networks []torchNet `json:"networks"`
}

// torchNet is PyTorch's view of one network on a few images.
type torchNet struct {
	Name        string      `json:"name"`
	Source      string      `json:"source"` // "shared:<path under shared data>" or "testdata:<file>"
	ModelName   string      `json:"model_name"`
	Images      int         `json:"images"`
	Mean        []float64   `json:"mean"`
	Std         []float64   `json:"std"`
	Logits      [][]float64 `json:"logits"`
	Predictions []int       `json:"predictions"`
	Odin        []float64   `json:"odin"`
	Baseline    []float64   `json:"baseline"`
	GradFile    string      `json:"grad_file"`
	Labels      []int       `json:"labels"`
}

func readFixtures(t testing.TB) *torchFixtures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f torchFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixtures.json: %v", err)
	}
	return &f
}

func (f *torchFixtures) net(t testing.TB, name string) *torchNet {
	t.Helper()
	for i := range f.Networks {
		if f.Networks[i].Name == name {
			return &f.Networks[i]
		}
	}
	t.Fatalf("fixtures.json: no network %q", name)
	return nil
}

// readFloat32s reads a little-endian float32 file of exactly n values.
func readFloat32s(t testing.TB, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// bytesToImages turns bytes (one per pixel value, 3×32×32 per image) into values in [0,1] as the
// generator did: float32(byte)/float32(255).
func bytesToImages(b []byte) []float32 {
	x := make([]float32, len(b))
	for i, v := range b {
		x[i] = float32(v) / 255
	}
	return x
}

// randomImages are the 4 images the random networks' fixtures were computed on.
func randomImages(t testing.TB) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "random-images.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*imageSize {
		t.Fatalf("random-images.bin: %d bytes, want %d", len(b), 4*imageSize)
	}
	return bytesToImages(b)
}

const imageSize = 3 * 32 * 32

// cifarTest reads the first n images of the CIFAR-10 test set (in [0,1]) and their labels.
func cifarTest(t testing.TB, n int) ([]float32, []int) {
	t.Helper()
	path := datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const rec = 1 + imageSize
	b := make([]byte, n*rec)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	pix := make([]byte, 0, n*imageSize)
	labels := make([]int, n)
	for i := range n {
		labels[i] = int(b[i*rec])
		pix = append(pix, b[i*rec+1:(i+1)*rec]...)
	}
	return bytesToImages(pix), labels
}

// odinRun is what the tests compute with the Go engine for comparison with PyTorch.
type odinRun struct {
	logits   []float32 // n×K
	pred     []int
	grad     []float32 // ∂loss/∂x for the normalised input x, n×3×32×32
	odin     []float64 // max softmax(f(x̃)/T)
	baseline []float64 // max softmax(f(x))
}

// runODIN applies ODIN to n images in [0,1] exactly as gen_torch.py does: loss =
// cross-entropy(f/T, argmax f), x̃ = x − ε·sign(∂loss/∂x)/std_c with sign = +1 where the
// gradient is ≥ 0, score = max softmax(f(x̃)/T) in float64.
func runODIN(t testing.TB, m *Model, images []float32, n int, temp, eps float64) *odinRun {
	t.Helper()
	x := make([]float32, n*imageSize)
	m.Normalize(x, images, n)
	e := m.Graph.NewExec(n)
	if err := e.Forward(x, n); err != nil {
		t.Fatal(err)
	}
	r := &odinRun{logits: e.Logits(nil)}
	k := m.Classes()
	gl := make([]float32, n*k)
	for i := range n {
		f := r.logits[i*k : (i+1)*k]
		y := argmax(f)
		r.pred = append(r.pred, y)
		r.baseline = append(r.baseline, maxSoftmax(f, 1))
		p := softmax(f, temp)
		for j := range k {
			d := p[j]
			if j == y {
				d--
			}
			gl[i*k+j] = float32(d / temp)
		}
	}
	var err error
	if r.grad, err = e.Backward("", gl, nil); err != nil {
		t.Fatal(err)
	}
	xt := make([]float32, len(x))
	for i := range n {
		for c := range 3 {
			step := float32(eps) / m.Std[c]
			off := (i*3 + c) * 1024
			for j := off; j < off+1024; j++ {
				if r.grad[j] >= 0 {
					xt[j] = x[j] - step
				} else {
					xt[j] = x[j] + step
				}
			}
		}
	}
	if err := e.Forward(xt, n); err != nil {
		t.Fatal(err)
	}
	lt := e.Logits(nil)
	for i := range n {
		r.odin = append(r.odin, maxSoftmax(lt[i*k:(i+1)*k], temp))
	}
	return r
}

func argmax(f []float32) int {
	best := 0
	for j, v := range f {
		if v > f[best] {
			best = j
		}
	}
	return best
}

// softmax of f/temp in float64.
func softmax(f []float32, temp float64) []float64 {
	p := make([]float64, len(f))
	hi := math.Inf(-1)
	for _, v := range f {
		hi = math.Max(hi, float64(v)/temp)
	}
	var sum float64
	for j, v := range f {
		p[j] = math.Exp(float64(v)/temp - hi)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return p
}

func maxSoftmax(f []float32, temp float64) float64 {
	best := 0.0
	for _, v := range softmax(f, temp) {
		best = math.Max(best, v)
	}
	return best
}

// agreement is how closely the Go engine reproduces PyTorch on one network.
type agreement struct {
	logitDiff    float64 // max |Δ logit|
	signAgree    float64 // fraction of input-gradient elements whose sign (≥ 0 or < 0) agrees
	gradRelErr   float64 // ‖g_go − g_torch‖ / ‖g_torch‖
	odinDiff     float64 // max |Δ ODIN score|
	baselineDiff float64 // max |Δ baseline score|
	odinSpread   float64 // max − min ODIN score in PyTorch, the scale the differences matter at
	predMismatch int
}

func compare(t testing.TB, want *torchNet, wantGrad []float32, got *odinRun) agreement {
	t.Helper()
	var a agreement
	k := len(want.Logits[0])
	for i, row := range want.Logits {
		for j, v := range row {
			a.logitDiff = math.Max(a.logitDiff, math.Abs(float64(got.logits[i*k+j])-v))
		}
		if got.pred[i] != want.Predictions[i] {
			a.predMismatch++
		}
	}
	same := 0
	var num, den float64
	for i, w := range wantGrad {
		g := got.grad[i]
		if (g >= 0) == (w >= 0) {
			same++
		}
		d := float64(g) - float64(w)
		num += d * d
		den += float64(w) * float64(w)
	}
	a.signAgree = float64(same) / float64(len(wantGrad))
	a.gradRelErr = math.Sqrt(num / den)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range want.Odin {
		a.odinDiff = math.Max(a.odinDiff, math.Abs(got.odin[i]-want.Odin[i]))
		a.baselineDiff = math.Max(a.baselineDiff, math.Abs(got.baseline[i]-want.Baseline[i]))
		lo, hi = math.Min(lo, want.Odin[i]), math.Max(hi, want.Odin[i])
	}
	a.odinSpread = hi - lo
	return a
}

func (a agreement) String() string {
	return fmt.Sprintf("max |Δlogit| %.3g, gradient signs agree %.4f%%, gradient rel. error %.3g, max |Δodin| %.3g (PyTorch spread %.3g), max |Δbaseline| %.3g",
		a.logitDiff, 100*a.signAgree, a.gradRelErr, a.odinDiff, a.odinSpread, a.baselineDiff)
}

// tolerance bounds the disagreement with PyTorch. Both sides compute in float32 with different
// summation orders (im2col GEMM here, oneDNN/ATen there), so logits differ by rounding only.
// Gradient signs differ only where a gradient element is within rounding of zero; flipping such
// an element moves x̃ by 2ε/std in that pixel, which changes the ODIN score at T = 1000 by far
// less than the spread of scores between images.
type tolerance struct {
	logit, signAgree, gradRel, odin, baseline float64
}

func checkAgreement(t *testing.T, name string, tol tolerance, m *Model, images []float32) {
	f := readFixtures(t)
	want := f.net(t, name)
	if m.Name != want.ModelName {
		t.Errorf("model name %q, want %q", m.Name, want.ModelName)
	}
	for c := range 3 {
		if m.Mean[c] != float32(want.Mean[c]) || m.Std[c] != float32(want.Std[c]) {
			t.Fatalf("normalisation mean %v std %v, PyTorch used %v %v", m.Mean, m.Std, want.Mean, want.Std)
		}
	}
	n := want.Images
	wantGrad := readFloat32s(t, filepath.Join("testdata", want.GradFile), n*imageSize)
	got := runODIN(t, m, images, n, f.Temperature, f.Epsilon)
	a := compare(t, want, wantGrad, got)
	t.Logf("%s vs PyTorch %s: %v", name, f.TorchVersion, a)
	if a.predMismatch != 0 {
		t.Errorf("%d of %d predictions differ from PyTorch's %v: got %v", a.predMismatch, n, want.Predictions, got.pred)
	}
	if a.logitDiff > tol.logit {
		t.Errorf("max |Δlogit| = %.3g, want ≤ %g", a.logitDiff, tol.logit)
	}
	if a.signAgree < tol.signAgree {
		t.Errorf("gradient signs agree on %.4f%% of elements, want ≥ %.2f%%", 100*a.signAgree, 100*tol.signAgree)
	}
	if a.gradRelErr > tol.gradRel {
		t.Errorf("gradient relative error %.3g, want ≤ %g", a.gradRelErr, tol.gradRel)
	}
	if a.odinDiff > tol.odin {
		t.Errorf("max |Δodin| = %.3g, want ≤ %g", a.odinDiff, tol.odin)
	}
	if a.baselineDiff > tol.baseline {
		t.Errorf("max |Δbaseline| = %.3g, want ≤ %g", a.baselineDiff, tol.baseline)
	}
}

func loadFixtureModel(t testing.TB, file string) *Model {
	t.Helper()
	m, err := Load(filepath.Join("testdata", file), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
