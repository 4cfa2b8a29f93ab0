package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

type fixtureMetrics struct {
	FPR95   *float64 `json:"fpr95"`
	DetErr  *float64 `json:"det_err"`
	AUROC   *float64 `json:"auroc"`
	AUPRIn  *float64 `json:"aupr_in"`
	AUPROut *float64 `json:"aupr_out"`
	GridLen int      `json:"grid_len"`
}

func (m fixtureMetrics) result() Result {
	v := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	return Result{v(m.FPR95), v(m.DetErr), v(m.AUROC), v(m.AUPRIn), v(m.AUPROut)}
}

type fixture struct {
	Exact []struct {
		Name        string         `json:"name"`
		In          []float64      `json:"in"`
		Out         []float64      `json:"out"`
		InPositive  fixtureMetrics `json:"in_positive"`
		OutPositive fixtureMetrics `json:"out_positive"`
	} `json:"exact"`
	Reference []struct {
		Name           string         `json:"name"`
		In             []float64      `json:"in"`
		Out            []float64      `json:"out"`
		Start          float64        `json:"start"`
		End            float64        `json:"end"`
		InclusiveAUROC bool           `json:"inclusive_auroc"`
		Want           fixtureMetrics `json:"want"`
	} `json:"reference"`
}

func readFixture(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/sklearn.json: %v", err)
	}
	if len(f.Exact) == 0 || len(f.Reference) == 0 {
		t.Fatal("testdata/sklearn.json: no cases")
	}
	return f
}

// checkClose reports fields of got that differ from want by more than tol; NaN must match NaN.
func checkClose(t *testing.T, name string, got, want Result, tol float64) {
	t.Helper()
	fields := []string{"FPR95", "DetErr", "AUROC", "AUPRIn", "AUPROut"}
	g := [5]float64{got.FPR95, got.DetErr, got.AUROC, got.AUPRIn, got.AUPROut}
	w := [5]float64{want.FPR95, want.DetErr, want.AUROC, want.AUPRIn, want.AUPROut}
	for k := range g {
		if math.IsNaN(w[k]) != math.IsNaN(g[k]) || math.Abs(g[k]-w[k]) > tol {
			t.Errorf("%s: %s = %.17g, want %.17g", name, fields[k], g[k], w[k])
		}
	}
}

// same reports whether a and b are identical, NaN fields included.
func same(a, b Result) bool {
	x := [5]float64{a.FPR95, a.DetErr, a.AUROC, a.AUPRIn, a.AUPROut}
	y := [5]float64{b.FPR95, b.DetErr, b.AUROC, b.AUPRIn, b.AUPROut}
	for k := range x {
		if math.Float64bits(x[k]) != math.Float64bits(y[k]) {
			return false
		}
	}
	return true
}

func TestSklearnAgreement(t *testing.T) {
	for _, c := range readFixture(t).Exact {
		got, err := Compute(c.In, c.Out, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkClose(t, c.Name+" (in positive)", got, c.InPositive.result(), 1e-9)
		got, err = Compute(c.In, c.Out, Options{Positive: Out})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		checkClose(t, c.Name+" (out positive)", got, c.OutPositive.result(), 1e-9)
	}
}

func TestReferenceAgreement(t *testing.T) {
	for _, c := range readFixture(t).Reference {
		if n := len(points(c.Start, c.End, (c.End-c.Start)/100000)); n != c.Want.GridLen {
			t.Errorf("%s: grid has %d points, numpy.arange has %d", c.Name, n, c.Want.GridLen)
		}
		g := Grid{Start: c.Start, End: c.End, InclusiveAUROC: c.InclusiveAUROC}
		got, err := Compute(c.In, c.Out, Options{ReferenceCompat: true, Grid: g})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// The fixture's sums are numpy's pairwise sums; ours are sequential like the reference's.
		checkClose(t, c.Name, got, c.Want.result(), 1e-12)
	}
}

// TestHandWorked checks a case small enough to work out on paper (see the comments).
func TestHandWorked(t *testing.T) {
	in := []float64{0.9, 0.7, 0.5, 0.5}
	out := []float64{0.7, 0.3, 0.1}
	// Thresholds 0.9, 0.7, 0.5, 0.3, 0.1 give (TPR, FPR) = (1/4, 0), (2/4, 1/3), (1, 1/3),
	// (1, 2/3), (1, 1). The highest with TPR ≥ 0.95 is 0.5. Errors: 0.375, 5/12, 1/6, 1/3, 0.5.
	// Pairs in > out: 3 + (2 + ½) + 2·2 = 9.5 of 12. AP in: ¼·1 + ¼·⅔ + ½·⅘ = 49/60. AP out,
	// flagging s ≤ 0.1, 0.3, 0.7: ⅓·1 + ⅓·1 + ⅓·3/6 = 5/6.
	want := Result{FPR95: 1.0 / 3, DetErr: 1.0 / 6, AUROC: 9.5 / 12, AUPRIn: 49.0 / 60, AUPROut: 5.0 / 6}
	got, err := Compute(in, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "in positive", got, want, 1e-15)

	// OOD positive: all OOD are flagged first at s ≤ 0.7, which flags 3 of 4 in-distribution.
	want = Result{FPR95: 0.75, DetErr: 1.0 / 6, AUROC: 9.5 / 12, AUPRIn: 5.0 / 6, AUPROut: 49.0 / 60}
	got, err = Compute(in, out, Options{Positive: Out})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "out positive", got, want, 1e-15)
}

// TestReferenceHandWorked checks the grid sweep on a 10-point grid 0, 0.1, …, 0.9 with scores
// between grid points, worked out on paper.
func TestReferenceHandWorked(t *testing.T) {
	in := slices.Concat([]float64{0.05}, slices.Repeat([]float64{0.55}, 4), slices.Repeat([]float64{0.95}, 15))
	out := []float64{0.15, 0.15, 0.35, 0.55}
	// in ≥ δ: 20 at 0, 19 at 0.1–0.5, 15 at 0.6–0.9. out > δ: 4, 4, 2, 2, 1, 1, 0, 0, 0, 0.
	want := Result{
		// TPR = 0.95 at 0.1–0.5: mean of 1, ½, ½, ¼, ¼ (the exact FPR95 is ¼).
		FPR95: 0.5,
		// (5/20 + 0)/2 at 0.6–0.9.
		DetErr: 0.125,
		// (1−½)·0.95 + (½−¼)·0.95 + (¼−0)·0.75 (the exact AUROC is 74/80).
		AUROC: 0.9,
		// (1−0.95)·0.95/1.95 at 0.1, (0.95−0.75)·1 at 0.6, then 0.75·1 at the last point.
		AUPRIn: 0.05*(0.95/1.95) + 0.2 + 0.75,
		// Descending from 1: out < δ is 4/4 down to 0.6, 3/4 at 0.5–0.4, 2/4 at 0.3–0.2, 0 at 0.1
		// (where in < δ is 1/20, so precision 0 ends the sum).
		AUPROut: 0.25*(0.75/0.8) + 0.25*(0.5/0.55),
	}
	for _, inclusive := range []bool{false, true} {
		got, err := Compute(in, out, Options{ReferenceCompat: true, Grid: Grid{Start: 0, End: 1, Steps: 10, InclusiveAUROC: inclusive}})
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "reference", got, want, 1e-15)
	}
}

// TestReferenceApproximatesExact checks that on smooth scores inside the grid the reference sweep
// is close to the exact metrics.
func TestReferenceApproximatesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in, out := make([]float64, 5000), make([]float64, 5000)
	for i := range in {
		in[i] = 0.110 + 0.0015*rng.NormFloat64()
		out[i] = 0.108 + 0.0015*rng.NormFloat64()
	}
	exact, err := Compute(in, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := PaperGrid("odin", 10)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Compute(in, out, Options{ReferenceCompat: true, Grid: g})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "reference vs exact", ref, exact, 0.005)
	if exact.FPR95 < 0.05 || exact.FPR95 > 0.95 {
		t.Errorf("exact FPR95 %g: the case should not be trivial", exact.FPR95)
	}
}

func TestPermutationInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in, out := make([]float64, 300), make([]float64, 200)
	for i := range in {
		in[i] = math.Round(10*rng.NormFloat64()) / 10
	}
	for i := range out {
		out[i] = math.Round(10*rng.NormFloat64()-5) / 10
	}
	for _, opt := range []Options{{}, {Positive: Out}, {ReferenceCompat: true, Grid: Grid{Start: -2, End: 2}}} {
		want, err := Compute(in, out, opt)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			pin, pout := slices.Clone(in), slices.Clone(out)
			rng.Shuffle(len(pin), func(i, j int) { pin[i], pin[j] = pin[j], pin[i] })
			rng.Shuffle(len(pout), func(i, j int) { pout[i], pout[j] = pout[j], pout[i] })
			got, err := Compute(pin, pout, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, want) {
				t.Errorf("%+v: permuted scores give %+v, want %+v", opt, got, want)
			}
		}
	}
}

func TestInputsUnchanged(t *testing.T) {
	in := []float64{3, 1, 2, 2}
	out := []float64{0, 5, -1}
	cin, cout := slices.Clone(in), slices.Clone(out)
	for _, opt := range []Options{{}, {Positive: Out}, {ReferenceCompat: true}} {
		if _, err := Compute(in, out, opt); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in, cin) || !slices.Equal(out, cout) {
			t.Fatalf("%+v: inputs modified to %v, %v", opt, in, out)
		}
	}
}

func TestPerfectSeparation(t *testing.T) {
	in := []float64{0.9, 0.8, 0.8, 0.7}
	out := []float64{0.1, 0.2, 0.2, 0.3, 0.65}
	want := Result{FPR95: 0, DetErr: 0, AUROC: 1, AUPRIn: 1, AUPROut: 1}
	for _, pos := range []Class{In, Out} {
		got, err := Compute(in, out, Options{Positive: pos})
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, pos.String(), got, want, 1e-15)
		if p := got.Percent(); math.Abs(p.AUROC-100) > 1e-12 || math.Abs(p.AUPRIn-100) > 1e-12 {
			t.Errorf("%v: percent %+v, want 100", pos, p)
		}
	}
	// Reversed: every OOD score above every in-distribution one.
	got, err := Compute(out, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.AUROC != 0 || got.FPR95 != 1 || got.DetErr != 0.5 {
		t.Errorf("reversed: %+v, want AUROC 0, FPR95 1, DetErr 0.5", got)
	}
}

func TestIdenticalDistributions(t *testing.T) {
	same := []float64{0.1, 0.5, 0.5, 0.9}
	got, err := Compute(same, same, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Equal samples: every threshold has TPR = FPR.
	checkClose(t, "same scores", got, Result{FPR95: 1, DetErr: 0.5, AUROC: 0.5, AUPRIn: 0.5, AUPROut: 0.5}, 1e-15)

	rng := rand.New(rand.NewPCG(5, 6))
	in, out := make([]float64, 20000), make([]float64, 20000)
	for i := range in {
		in[i], out[i] = rng.Float64(), rng.Float64()
	}
	got, err = Compute(in, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The standard deviation of the AUROC is about 0.003 here.
	if math.Abs(got.AUROC-0.5) > 0.015 || math.Abs(got.FPR95-0.95) > 0.015 {
		t.Errorf("same distribution: %+v, want AUROC ≈ 0.5 and FPR95 ≈ 0.95", got)
	}
}

func TestPositiveSwapMirrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in, out := make([]float64, 500), make([]float64, 700)
	for i := range in {
		in[i] = math.Round(20*rng.NormFloat64()+10) / 20
	}
	for i := range out {
		out[i] = math.Round(20*rng.NormFloat64()) / 20
	}
	a, err := Compute(in, out, Options{Positive: In})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compute(in, out, Options{Positive: Out})
	if err != nil {
		t.Fatal(err)
	}
	// Equal up to rounding: the two directions add the same terms in opposite orders.
	if math.Abs(a.AUPRIn-b.AUPROut) > 1e-14 || math.Abs(a.AUPROut-b.AUPRIn) > 1e-14 {
		t.Errorf("AUPRs not mirrored: in positive %+v, out positive %+v", a, b)
	}
	if a.AUROC != b.AUROC || math.Abs(a.DetErr-b.DetErr) > 1e-15 {
		t.Errorf("AUROC or DetErr changed: in positive %+v, out positive %+v", a, b)
	}
	// Swapping the sets and negating the scores is the same as making OOD positive.
	negIn, negOut := make([]float64, len(in)), make([]float64, len(out))
	for i, v := range in {
		negIn[i] = -v
	}
	for i, v := range out {
		negOut[i] = -v
	}
	c, err := Compute(negOut, negIn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c != b {
		t.Errorf("Compute(-out, -in) = %+v, want %+v", c, b)
	}
}

func TestInfiniteScores(t *testing.T) {
	in := []float64{math.Inf(1), 1, math.Inf(1)}
	out := []float64{math.Inf(-1), 0, math.Inf(1)}
	got, err := Compute(in, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Pairs: +∞ beats 2 and ties 1 (twice), 1 beats 2: (2·2.5 + 2)/9.
	if want := 7.0 / 9; math.Abs(got.AUROC-want) > 1e-15 {
		t.Errorf("AUROC = %g, want %g", got.AUROC, want)
	}
}

func TestComputeErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		in, out []float64
		opt     Options
		want    string
	}{
		{"no in", nil, []float64{1}, Options{}, "no in-distribution scores"},
		{"no out", []float64{1}, []float64{}, Options{}, "no out-of-distribution scores"},
		{"NaN in", []float64{1, math.NaN()}, []float64{1}, Options{}, "in-distribution score 1 is NaN"},
		{"NaN out", []float64{1}, []float64{math.NaN()}, Options{}, "out-of-distribution score 0 is NaN"},
		{"bad class", []float64{1}, []float64{1}, Options{Positive: 2}, "invalid positive class 2"},
		{"reference out", []float64{1}, []float64{1}, Options{Positive: Out, ReferenceCompat: true}, "only with in-distribution positive"},
		{"empty grid", []float64{1}, []float64{1}, Options{ReferenceCompat: true, Grid: Grid{Start: 1, End: 1}}, "start < end"},
		{"infinite grid", []float64{1}, []float64{1}, Options{ReferenceCompat: true, Grid: Grid{Start: 0, End: math.Inf(1)}}, "start < end"},
		{"huge grid", []float64{1}, []float64{1}, Options{ReferenceCompat: true, Grid: Grid{Start: -1e308, End: 1e308}}, "too narrow"},
		{"steps", []float64{1}, []float64{1}, Options{ReferenceCompat: true, Grid: Grid{Start: 0, End: 1, Steps: -1}}, "steps -1"},
	} {
		_, err := Compute(c.in, c.out, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

func TestPaperGrid(t *testing.T) {
	for _, c := range []struct {
		det       string
		classes   int
		want      Grid
		gridLen   int
		wantError bool
	}{
		{"baseline", 10, Grid{Start: 0.1, End: 1}, 100000, false},
		{"baseline", 100, Grid{Start: 0.01, End: 1}, 100000, false},
		{"odin", 10, Grid{Start: 0.1, End: 0.12, InclusiveAUROC: true}, 100000, false},
		{"odin", 100, Grid{Start: 0.01, End: 0.0104, InclusiveAUROC: true}, 100001, false},
		{"odin", 1000, Grid{}, 0, true},
		{"energy", 10, Grid{}, 0, true},
	} {
		g, err := PaperGrid(c.det, c.classes)
		if (err != nil) != c.wantError || g != c.want {
			t.Errorf("PaperGrid(%q, %d) = %+v, %v; want %+v", c.det, c.classes, g, err, c.want)
		}
		if err == nil {
			if n := len(points(g.Start, g.End, (g.End-g.Start)/100000)); n != c.gridLen {
				t.Errorf("PaperGrid(%q, %d): %d grid points, want %d", c.det, c.classes, n, c.gridLen)
			}
		}
	}
}
