package experiment

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// colors is a data set of single-colour images, one RGB triple per image.
type colors struct {
	name string
	rgb  [][3]float32
}

func (s colors) Name() string      { return s.name }
func (s colors) Len() int          { return len(s.rgb) }
func (s colors) Classes() []string { return nil }
func (s colors) Image(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(s.rgb) {
		return 0, fmt.Errorf("%s: image %d out of range", s.name, i)
	}
	const plane = dataset.Side * dataset.Side
	for c := range 3 {
		for p := range plane {
			dst[c*plane+p] = s.rgb[i][c]
		}
	}
	return -1, nil
}

func repeat(n int, rgb ...[3]float32) [][3]float32 {
	var out [][3]float32
	for range n {
		out = append(out, rgb...)
	}
	return out
}

// Parameters of the synthetic network. On a single-colour image (R, G, B) it computes, through a
// 1×1 convolution, ReLU, global pooling and a linear layer, the three logits
//
//	f1 = α·(relu(R−θ) − drop·relu(R−θ')) + γ·G + β1,   f2 = 0,   f3 = k·B − 100,
//
// with α = 100, θ = 0.2, θ' = 0.6. It is normalised with mean 0 and std 1, so a perturbation moves each channel by ±ε. Class 1
// is predicted on every image below, so the gradient pushes R and G up wherever f1 rises with
// them (R stays put on the flat part below θ: sign(0) = +1 moves it down) and B down.
const (
	alpha  = 100
	theta  = 0.2
	theta2 = 0.6
)

func synthModel(t testing.TB, drop, gamma, k, beta1 float32) *models.Model {
	t.Helper()
	b := nn.NewBuilder(nn.Shape{C: 3, H: 32, W: 32})
	h := b.Conv2d("hidden", b.Input(), nn.Conv{Out: 4, KH: 1, KW: 1, Stride: 1,
		Weight: []float32{1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},
		Bias:   []float32{-theta, -theta2, 0, 0}})
	f := b.GlobalAvgPool(b.ReLU(h))
	b.Tap("features", f)
	g, err := b.Build(b.Linear("fc", f, 3,
		[]float32{alpha, -alpha * drop, gamma, 0, 0, 0, 0, 0, 0, 0, 0, k},
		[]float32{beta1, 0, -100}))
	if err != nil {
		t.Fatal(err)
	}
	return &models.Model{Name: "synthetic", Graph: g, Std: [3]float32{1, 1, 1}}
}

// knownSplit is built so that ODIN separates the sets at exactly one cell of the paper's grid:
// T = 2, ε = 0.002. The in-distribution colour has logits (1, 0, −9); R sits 0.002 below θ', so
// a perturbation raises f1 by α·min(ε, 0.002) (+ γ·ε, − k·ε on f3, as for every image).
//
//   - out1 (R on the flat part, f1 = 1.19) gains nothing from R: it is beaten iff α·min(ε,
//     0.002) > 0.19, i.e. ε ≥ 0.002 on the grid.
//   - out2 (R low on the ramp, f1 = 0.99) gains α·ε: beaten iff ε ≤ 0.002.
//   - out3 (logits (2, 0, 0)) has the larger top-two margin but the smaller sum of margins: it
//     wins at T ≤ 1 and loses from T ≈ 1.4 on.
//   - out4 (logits (0.9, 0, −99.1)) has the smaller top-two margin but the larger sum: it loses
//     at T ≤ 2 and wins from T ≈ 2.7 on.
//
// The first two compare f1 alone (equal f2 and f3), whatever T; the last two move with the
// in-distribution colour, and the crossings stay between the grid's temperatures for every ε.
// So only T = 2, ε = 0.002 ranks every in-distribution image above every OOD image.
func knownSplit() (in, out colors) {
	in = colors{"synthetic in", repeat(3, [3]float32{0.598, 0.3, 0.91})}
	out = colors{"synthetic out", repeat(2,
		[3]float32{0.1, 0.6999, 0.91},   // out1
		[3]float32{0.4, 0.4979, 0.91},   // out2
		[3]float32{0.598, 0.31, 1},      // out3
		[3]float32{0.598, 0.299, 0.009}, // out4
	)}
	return in, out
}

func TestSearchFindsKnownCell(t *testing.T) {
	m := synthModel(t, 1, 100, 100, -68.8)
	inSet, outSet := knownSplit()
	for _, c := range []Criterion{MinFPR95, MaxAUROC, MinDetErr} {
		tu, err := NewTuner(m, PaperGrid(), c, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tu.Tune(context.Background(), Range{inSet, 0, inSet.Len()}, Range{outSet, 0, outSet.Len()})
		if err != nil {
			t.Fatal(err)
		}
		best := res.BestCell()
		if best.Temperature != 2 || best.Magnitude != 0.002 {
			t.Errorf("%s: best T=%g ε=%g, want T=2 ε=0.002", c, best.Temperature, best.Magnitude)
		}
		if best.Result.FPR95 != 0 || best.Result.AUROC != 1 || best.Result.DetErr != 0 {
			t.Errorf("%s: best cell %+v, want perfect separation", c, best.Result)
		}
		perfect := 0
		for _, cell := range res.Cells {
			if cell.Result.AUROC == 1 {
				perfect++
			}
		}
		if perfect != 1 {
			t.Errorf("%s: %d cells separate the sets, want exactly one", c, perfect)
		}
	}

	// The gradient's signs do not depend on T here, so each perturbed copy is passed forward
	// once for all ten temperatures; the shared results are still ODIN's.
	s, err := NewGridScorer(m, PaperGrid(), 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Score(context.Background(), outSet, 0, outSet.Len(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := outSet.Len(); got.Forward != n*21 || got.Backward != n*10 {
		t.Errorf("%d forward and %d backward passes, want %d and %d", got.Forward, got.Backward, n*21, n*10)
	}
	for _, c := range []int{0, 17, 29, 105, 209} {
		T, eps := got.Grid.Cell(c)
		want, err := NewScorer(m, []ood.Detector{&ood.ODIN{Temperature: T, Magnitude: eps}}, 1, 3).Score(context.Background(), outSet, 0, outSet.Len(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range want[0] {
			if got.Cells[c][i] != v {
				t.Errorf("T=%g ε=%g image %d: grid %v, ODIN %v", T, eps, i, got.Cells[c][i], v)
			}
		}
	}
}

func TestSearchInOnlyFindsPeak(t *testing.T) {
	// With drop = 2 the ramp of f1 in R turns down at θ': the in-distribution colour, 0.002
	// below it, gains α·ε up to ε = 0.002 and loses it again after. Nothing else moves; its
	// logits are (1, 0, −100).
	m := synthModel(t, 2, 0, 0, -38.8)
	in := colors{"synthetic in", repeat(4, [3]float32{0.598, 0.3, 0.91})}
	g := Grid{Temperatures: []float64{1000}, Magnitudes: Spaced(0, 0.004, 21)}
	tu, err := NewTuner(m, g, MaxInScore, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tu.TuneInOnly(context.Background(), Range{in, 0, in.Len()})
	if err != nil {
		t.Fatal(err)
	}
	if best := res.BestCell(); best.Temperature != 1000 || best.Magnitude != 0.002 {
		t.Errorf("best T=%g ε=%g, want T=1000 ε=0.002", best.Temperature, best.Magnitude)
	}
	for i, c := range res.Cells {
		if i > 0 && (c.Magnitude <= 0.002) != (c.InMean > res.Cells[i-1].InMean) {
			t.Errorf("ε=%g: mean score %v after %v: not rising up to 0.002 and falling after", c.Magnitude, c.InMean, res.Cells[i-1].InMean)
		}
		if !math.IsNaN(c.Result.AUROC) {
			t.Errorf("ε=%g: AUROC %v without OOD data, want NaN", c.Magnitude, c.Result.AUROC)
		}
	}
	if _, err := NewTuner(m, PaperGrid(), MaxInScore, 1, 1); err == nil || !strings.Contains(err.Error(), "one temperature") {
		t.Errorf("in_score over ten temperatures: %v", err)
	}
}

// smallNet is the small random DenseNet-BC of the models' test data.
func smallNet(t testing.TB) *models.Model {
	t.Helper()
	m, err := models.Load(filepath.Join("..", "models", "testdata", "densenet-22-4.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every cell's scores are bit-identical to ood.ODIN's with the cell's parameters, run through
// Eval with other micro-batches, and so are the metrics.
func TestGridMatchesEval(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{1, 10, 1000}, Magnitudes: []float64{0.003, 0, 0.0014}}
	in := Range{Data: dataset.Gaussian(40, 1), First: 5, Count: 13}
	out := Range{Data: dataset.Uniform(40, 2), First: 9, Count: 11}
	tu, err := NewTuner(m, g, MinFPR95, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tu.Tune(context.Background(), in, out)
	if err != nil {
		t.Fatal(err)
	}
	si, _ := tu.Scores(context.Background(), "in", in)
	so, _ := tu.Scores(context.Background(), "out", out)
	for c := range g.Len() {
		T, eps := g.Cell(c)
		ev := &Eval{Scorer: NewScorer(m, []ood.Detector{ood.MSP{}, &ood.ODIN{Temperature: T, Magnitude: eps}}, 1, 4), In: in, Out: out}
		o, err := ev.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range o.In[1] {
			if si.Cells[c][i] != v {
				t.Fatalf("T=%g ε=%g in-distribution image %d: grid %v, ODIN %v", T, eps, i, si.Cells[c][i], v)
			}
		}
		for i, v := range o.Out[1] {
			if so.Cells[c][i] != v {
				t.Fatalf("T=%g ε=%g OOD image %d: grid %v, ODIN %v", T, eps, i, so.Cells[c][i], v)
			}
		}
		if res.Cells[c].Result != o.Results[1] {
			t.Errorf("T=%g ε=%g: grid metrics %+v, Eval %+v", T, eps, res.Cells[c].Result, o.Results[1])
		}
		if c == 0 && res.Baseline != o.Results[0] {
			t.Errorf("baseline: grid %+v, Eval %+v", res.Baseline, o.Results[0])
		}
	}
	// One backward pass per image and temperature; at most one forward pass per image and
	// perturbed cell, plus the clean one.
	if si.Backward != 13*3 || si.Forward > 13*(1+3*2) || si.Forward < 13 {
		t.Errorf("in-distribution passes: %d forward, %d backward", si.Forward, si.Backward)
	}
}

func TestGridScoresDeterministic(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{2, 500, 1000}, Magnitudes: []float64{0, 0.001, 0.002}}
	ds := dataset.Uniform(30, 7)
	var first *GridScores
	for _, wb := range [][2]int{{1, 1}, {2, 4}, {2, 7}, {1, 30}} {
		s, err := NewGridScorer(m, g, wb[0], wb[1])
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Score(context.Background(), ds, 0, 30, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
			continue
		}
		for c := range got.Cells {
			for i := range got.Cells[c] {
				if got.Cells[c][i] != first.Cells[c][i] {
					t.Fatalf("workers %d batch %d: cell %d image %d: %v, first run %v", wb[0], wb[1], c, i, got.Cells[c][i], first.Cells[c][i])
				}
			}
		}
	}
}

// An interrupted search resumes from the cache, and a later search reads the scores back; both
// give the scores of an uninterrupted run.
func TestTunerCacheResumes(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{1, 1000}, Magnitudes: []float64{0, 0.002}}
	in := Range{Data: dataset.Gaussian(40, 1), First: 2, Count: 24}
	out := Range{Data: dataset.Uniform(40, 2), First: 0, Count: 20}
	id := map[string]string{"network": "densenet-22-4"}
	fresh, err := NewTuner(m, g, MinFPR95, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.Tune(context.Background(), in, out)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cut, _ := NewTuner(m, g, MinFPR95, 2, 3)
	cut.CacheDir, cut.Identity = dir, id
	ctx, cancel := context.WithCancel(context.Background())
	cut.Progress = func(set string, done, total int) {
		if set == "out" && done >= total/2 {
			cancel()
		}
	}
	if _, err := cut.Tune(ctx, in, out); err != context.Canceled {
		t.Fatalf("interrupted search: %v, want context.Canceled", err)
	}

	for run := range 2 {
		tu, _ := NewTuner(m, g, MinFPR95, 1, 4)
		tu.CacheDir, tu.Identity = dir, id
		got, err := tu.Tune(context.Background(), in, out)
		if err != nil {
			t.Fatal(err)
		}
		si, _ := tu.Scores(context.Background(), "in", in)
		so, _ := tu.Scores(context.Background(), "out", out)
		if si.Resumed != 24 || so.Resumed == 0 || (so.Resumed == 20) != (run == 1) {
			t.Errorf("run %d: resumed %d and %d images", run, si.Resumed, so.Resumed)
		}
		for c := range got.Cells {
			if got.Cells[c] != want.Cells[c] {
				t.Errorf("run %d cell %d: %+v, uninterrupted %+v", run, c, got.Cells[c], want.Cells[c])
			}
		}
		if got.Baseline != want.Baseline {
			t.Errorf("run %d baseline: %+v, uninterrupted %+v", run, got.Baseline, want.Baseline)
		}
	}

	// Another grid goes to another folder rather than failing on the file's header.
	other, _ := NewTuner(m, Grid{Temperatures: []float64{1000}, Magnitudes: []float64{0.001}}, MinFPR95, 1, 4)
	other.CacheDir, other.Identity = dir, id
	if s, err := other.Scores(context.Background(), "in", in); err != nil || s.Resumed != 0 {
		t.Errorf("other grid: resumed %v, %v", s, err)
	}
}

func TestGridCheck(t *testing.T) {
	for _, c := range []struct {
		g    Grid
		want string
	}{
		{Grid{}, "empty grid"},
		{Grid{Temperatures: []float64{1}}, "empty grid: no magnitudes"},
		{Grid{Temperatures: []float64{1}, Magnitudes: []float64{0, -0.001}}, "magnitude -0.001: parameter out of range"},
		{Grid{Temperatures: []float64{0}, Magnitudes: []float64{0}}, "temperature 0: parameter out of range"},
		{Grid{Temperatures: []float64{2, 2}, Magnitudes: []float64{0}}, "temperature 2 listed twice"},
		{Grid{Temperatures: []float64{1}, Magnitudes: []float64{math.NaN()}}, "magnitude NaN: parameter out of range"},
		{Grid{Temperatures: []float64{1e-300}, Magnitudes: []float64{0}}, "temperature 1e-300: parameter out of range"},
		{Grid{Temperatures: []float64{math.Inf(1)}, Magnitudes: []float64{0}}, "temperature +Inf: parameter out of range"},
		{Grid{Temperatures: []float64{1}, Magnitudes: []float64{1e300}}, "magnitude 1e+300: parameter out of range"},
	} {
		err := c.g.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.g, err, c.want)
		}
		if _, err := NewTuner(smallNet(t), c.g, MinFPR95, 1, 1); err == nil {
			t.Errorf("%+v: NewTuner accepted it", c.g)
		}
	}
	if err := PaperGrid().Check(); err != nil {
		t.Error(err)
	}
}

func TestPaperGridValues(t *testing.T) {
	g := PaperGrid()
	if g.Len() != 210 {
		t.Fatalf("%d cells, want 210", g.Len())
	}
	// The seed's ε, typed as decimals, are grid values exactly.
	for _, eps := range []float64{0, 0.0002, 0.0014, 0.0024, 0.004} {
		found := false
		for _, m := range g.Magnitudes {
			found = found || m == eps
		}
		if !found {
			t.Errorf("ε = %v not in %v", eps, g.Magnitudes)
		}
	}
}

func TestTuneRejectsSameSet(t *testing.T) {
	tu, err := NewTuner(smallNet(t), Grid{Temperatures: []float64{1}, Magnitudes: []float64{0}}, MinFPR95, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ds := dataset.Uniform(20, 1)
	_, err = tu.Tune(context.Background(), Range{ds, 0, 10}, Range{ds, 10, 10})
	if err == nil || !strings.Contains(err.Error(), "is the in-distribution set") {
		t.Errorf("same set: %v", err)
	}
}

func TestTuningCSV(t *testing.T) {
	res := &Tuning{Criterion: MinFPR95, Cells: []Cell{
		{Temperature: 1000, Magnitude: 0.0014, Result: metrics.Result{FPR95: 0.25, DetErr: 0.1, AUROC: 0.9, AUPRIn: 0.8, AUPROut: 0.7}},
	}}
	var b strings.Builder
	if err := WriteGrid(&b, []string{"Imagenet"}, []*Tuning{res}); err != nil {
		t.Fatal(err)
	}
	want := "temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out\n1000,0.0014,25,10,90,80,70\n"
	if b.String() != want {
		t.Errorf("CSV\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteGrid(&b, []string{"Imagenet", "LSUN"}, []*Tuning{res, res}); err != nil {
		t.Fatal(err)
	}
	want = "val_dataset,temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out\nImagenet,1000,0.0014,25,10,90,80,70\nLSUN,1000,0.0014,25,10,90,80,70\n"
	if b.String() != want {
		t.Errorf("CSV of two searches\n%s\nwant\n%s", b.String(), want)
	}
}

// A micro-batch larger than the images scored (buffers sized by the images in flight) gives the
// scores of small micro-batches, and a later call with more images than the first still fits.
func TestGridScorerLargeBatch(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{1, 1000}, Magnitudes: []float64{0, 0.002, 0.004}}
	ds := dataset.Uniform(30, 3)
	small, err := NewGridScorer(m, g, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	large, err := NewGridScorer(m, g, 2, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, count := range []int{3, 11} {
		want, err := small.Score(context.Background(), ds, 5, count, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := large.Score(context.Background(), ds, 5, count, nil)
		if err != nil {
			t.Fatal(err)
		}
		for c := range want.Cells {
			for i := range want.Cells[c] {
				if got.Cells[c][i] != want.Cells[c][i] {
					t.Fatalf("%d images, cell %d image %d: %v with batch 64, %v with batch 2", count, c, i, got.Cells[c][i], want.Cells[c][i])
				}
			}
		}
	}
}
