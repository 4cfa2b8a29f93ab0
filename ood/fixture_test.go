package ood

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// The fixture in testdata is written by testdata/gen_fixture.py (see its doc): densenet10's
// penultimate features of 500 CIFAR-10 training images and 24 test images (16 CIFAR-10 test
// images, 8 of uniform noise), rounded to float16, their float32 logits, the final layer, and
// reference scores computed from exactly these values in float64 with NumPy (and, for
// mahalanobis_pre, PyTorch running the network).

type fixture struct {
	Features, Classes int
	Train             struct {
		Images int
		Labels []int
	}
	Test struct {
		CIFARTestImages int    `json:"cifar_test_images"`
		NoiseImages     int    `json:"noise_images"`
		NoiseFile       string `json:"noise_file"`
	}
	ReactThresholds map[string]float64   `json:"react_thresholds"`
	Scores          map[string][]float64 `json:"scores"`

	train  *Train
	test   []float32 // test features, N×D
	logits []float32 // test logits
	model  *models.Model
}

func (f *fixture) testN() int { return f.Test.CIFARTestImages + f.Test.NoiseImages }

func readFixture(t testing.TB) *fixture {
	t.Helper()
	var f fixture
	b, err := os.ReadFile(filepath.Join("testdata", "densenet10-fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("densenet10-fixture.json: %v", err)
	}
	n, d, k := f.Train.Images, f.Features, f.Classes
	m := f.testN()
	htr := readF16(t, "densenet10-train.f16", n*d)
	f.test = readF16(t, "densenet10-test.f16", m*d)
	logits := readF32(t, "densenet10-logits.f32", (n+m)*k)
	fc := readF32(t, "densenet10-fc.f32", k*d+k)
	f.logits = logits[n*k:]
	f.train = &Train{Name: "fixture", N: n, D: d, K: k, Features: htr, Logits: logits[:n*k],
		Labels: f.Train.Labels, Weight: fc[:k*d], Bias: fc[k*d:]}
	f.model = linearModel(t, fc[:k*d], fc[k*d:], d, k)
	return &f
}

// linearModel is a network that is only the final layer, its input tapped as "features", so
// that fixture features can be scored without the convolutional part.
func linearModel(t testing.TB, w, b []float32, d, k int) *models.Model {
	t.Helper()
	bl := nn.NewBuilder(nn.Shape{C: d, H: 1, W: 1})
	bl.Tap("features", bl.Input())
	g, err := bl.Build(bl.Linear("fc", bl.Input(), k, w, b))
	if err != nil {
		t.Fatal(err)
	}
	return &models.Model{Name: "fixture-fc", Graph: g, Mean: models.CIFARMean, Std: models.CIFARStd}
}

// batchOf wraps features and logits as an already computed Batch of model m.
func batchOf(m *models.Model, features, logits []float32, n int) *Batch {
	return &Batch{Model: m, N: n, Features: features, Logits: logits}
}

func readF32(t testing.TB, name string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", name, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func readF16(t testing.TB, name string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 2*n {
		t.Fatalf("%s: %d bytes, want %d", name, len(b), 2*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = half(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return v
}

// half converts an IEEE binary16 value (finite) to float32, exactly.
func half(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	if e == 0 {
		return sign * float32(math.Ldexp(m, -24))
	}
	return sign * float32(math.Ldexp(1+m/1024, e-15))
}

// close reports whether got agrees with want to tol relative to max(1, |want|).
func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

func compareScores(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d scores, reference has %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		worst = max(worst, math.Abs(got[i]-want[i])/max(1, math.Abs(want[i])))
		if !closeTo(got[i], want[i], tol) {
			t.Errorf("%s: image %d: %.10g, reference %.10g", what, i, got[i], want[i])
		}
	}
	t.Logf("%s: largest difference %.2g (relative to max(1,|ref|))", what, worst)
}

// fitted fits the named detector on the fixture's training features.
func fitted(t *testing.T, f *fixture, name string) (Detector, *Stats) {
	t.Helper()
	d, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStats(f.model, "densenet10", f.train)
	if err := d.(Fitted).Fit(context.Background(), f.train, s); err != nil {
		t.Fatal(err)
	}
	return d, s
}

func scoreFixture(t *testing.T, f *fixture, d Detector) []float64 {
	t.Helper()
	n := f.testN()
	dst := make([]float64, n)
	if err := d.Score(context.Background(), batchOf(f.model, f.test, f.logits, n), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestFixtureFitted(t *testing.T) {
	f := readFixture(t)
	cases := []struct {
		method, ref string
		params      map[string]float64
		tol         float64
	}{
		{"mahalanobis", "mahalanobis", nil, 1e-5},
		{"knn", "knn k=50", nil, 1e-5},
		{"knn", "knn k=1", map[string]float64{"k": 1}, 1e-5},
		{"react", "react p=90", nil, 1e-5},
		{"react", "react p=80", map[string]float64{"percentile": 80}, 1e-5},
		{"vim", "vim dim=171", nil, 1e-5},
		{"vim", "vim dim=300", map[string]float64{"dim": 300}, 1e-5},
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			d, _ := fitted(t, f, c.method)
			for _, p := range d.Params() {
				if v, ok := c.params[p.Name]; ok {
					*p.Value = v
				}
			}
			compareScores(t, c.ref, scoreFixture(t, f, d), f.Scores[c.ref], c.tol)
		})
	}
}

func TestFixtureReactThreshold(t *testing.T) {
	f := readFixture(t)
	d, _ := fitted(t, f, "react")
	r := d.(*ReAct)
	for _, p := range []float64{90, 80} {
		r.Percentile = p
		got, err := r.Threshold()
		if err != nil {
			t.Fatal(err)
		}
		want := f.ReactThresholds[fmt.Sprintf("p=%g", p)]
		if got != want {
			t.Errorf("percentile %g: threshold %.17g, NumPy %.17g", p, got, want)
		}
	}
}

func TestFixtureUnfitted(t *testing.T) {
	f := readFixture(t)
	for _, name := range []string{"energy", "maxlogit", "msp"} {
		d, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		compareScores(t, name, scoreFixture(t, f, d), f.Scores[name], 1e-12)
	}
}

// TestFixtureGradNorm checks the closed form against PyTorch's autograd gradient of the KL
// divergence with respect to the final layer's weights. The reference applies the layer to the
// stored features in float64, so the logits here are that product rounded to float32.
func TestFixtureGradNorm(t *testing.T) {
	f := readFixture(t)
	n, d, k := f.testN(), f.Features, f.Classes
	logits := make([]float32, n*k)
	for i := range n {
		for j := range k {
			s := float64(f.train.Bias[j])
			for c := range d {
				s += float64(f.train.Weight[j*d+c]) * float64(f.test[i*d+c])
			}
			logits[i*k+j] = float32(s)
		}
	}
	dst := make([]float64, n)
	if err := NewGradNorm().Score(context.Background(), batchOf(f.model, f.test, logits, n), dst); err != nil {
		t.Fatal(err)
	}
	compareScores(t, "gradnorm", dst, f.Scores["gradnorm"], 1e-6)
}

// TestFixtureStatsRoundTrip saves the statistics of every fitted detector, reads them back, and
// expects the same scores bit for bit.
func TestFixtureStatsRoundTrip(t *testing.T) {
	f := readFixture(t)
	s := NewStats(f.model, "densenet10", f.train)
	var before [][]float64
	// Without the network, mahalanobis_pre cannot perturb: score it with ε = 0.
	noPre := func(d Detector) Detector {
		if m, ok := d.(*Mahalanobis); ok {
			m.Magnitude = 0
		}
		return d
	}
	for _, name := range FittedNames() {
		d, _ := New(name)
		noPre(d)
		if err := d.(Fitted).Fit(context.Background(), f.train, s); err != nil {
			t.Fatal(err)
		}
		before = append(before, scoreFixture(t, f, d))
	}
	path := filepath.Join(t.TempDir(), "densenet10.stats")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	r, err := ReadStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(f.model); err != nil {
		t.Fatal(err)
	}
	for i, name := range FittedNames() {
		d, _ := New(name)
		noPre(d)
		if err := d.(Fitted).Use(r); err != nil {
			t.Fatal(err)
		}
		after := scoreFixture(t, f, d)
		for j := range after {
			if after[j] != before[i][j] {
				t.Errorf("%s image %d: %v after reading the statistics back, %v before", name, j, after[j], before[i][j])
			}
		}
	}
	if r.Images != f.Train.Images || r.Features != f.Features || r.Classes != f.Classes || r.NN != "densenet10" {
		t.Errorf("header read back as %+v", r)
	}
}
