package ood

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
)

// fixtureImages returns the fixture's 24 test images in [0,1]: the first 16 CIFAR-10 test
// images and the 8 noise images.
func fixtureImages(t *testing.T, f *fixture) []float32 {
	t.Helper()
	ds, err := dataset.OpenCIFAR10(datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	n := f.testN()
	x := make([]float32, n*dataset.Pixels)
	for i := range f.Test.CIFARTestImages {
		if _, err := ds.Image(i, x[i*dataset.Pixels:]); err != nil {
			t.Fatal(err)
		}
	}
	noise, err := os.ReadFile(filepath.Join("testdata", f.Test.NoiseFile))
	if err != nil {
		t.Fatal(err)
	}
	off := f.Test.CIFARTestImages * dataset.Pixels
	if len(noise) != len(x)-off {
		t.Fatalf("%s: %d bytes, want %d", f.Test.NoiseFile, len(noise), len(x)-off)
	}
	for i, v := range noise {
		x[off+i] = float32(v) / 255
	}
	return x
}

func loadDenseNet10(t *testing.T) *models.Model {
	t.Helper()
	m, err := models.Load(datadir.ForTest(t, "models/densenet10.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNetwork runs densenet10 on the fixture's test images. The features of the shared
// forward pass must be PyTorch's (stored rounded to float16), and mahalanobis_pre, which runs a
// backward pass from the features and a second forward pass, must score as PyTorch did.
func TestNetwork(t *testing.T) {
	f := readFixture(t)
	m := loadDenseNet10(t)
	x := fixtureImages(t, f)
	n, d := f.testN(), f.Features
	b := NewBatch(m, m.Graph.NewExec(n))
	if err := b.Load(x, n); err != nil {
		t.Fatal(err)
	}
	// Each feature must be within one float16 ulp of PyTorch's rounded one: half an ulp for the
	// rounding, the rest for the two float32 engines' differences.
	worst := 0.0
	for i, v := range b.Features[:n*d] {
		want := f.test[i]
		diff := math.Abs(float64(v-want)) / halfULP(want)
		worst = max(worst, diff)
		if diff > 1 {
			t.Fatalf("image %d feature %d: %g, PyTorch (float16) %g", i/d, i%d, v, want)
		}
	}
	t.Logf("features: largest difference %.2f float16 ulp", worst)

	dets, err := Parse("mahalanobis,mahalanobis_pre", Options{Model: m, Stats: func() (*Stats, error) {
		s := NewStats(m, "densenet10", f.train)
		return s, NewMahalanobis().Fit(context.Background(), f.train, s)
	}})
	if err != nil {
		t.Fatal(err)
	}
	plain, pre := make([]float64, n), make([]float64, n)
	if err := dets[0].Score(context.Background(), b, plain); err != nil {
		t.Fatal(err)
	}
	if err := dets[1].Score(context.Background(), b, pre); err != nil {
		t.Fatal(err)
	}
	// Looser than elsewhere: the input gradient goes through the precision's huge weights on
	// rarely active units, where the two float32 engines' rounding differs most; its sign then
	// differs from PyTorch's in one of the 3,072 components on 3 of the 24 images, which moves
	// those scores by up to 2e-4 (relative).
	compareScores(t, "mahalanobis_pre", pre, f.Scores["mahalanobis_pre eps=0.0014"], 1e-3)
	up := 0
	for i := range n {
		if pre[i] > plain[i] {
			up++
		}
	}
	// The perturbation climbs the score: it should raise it for (nearly) every image.
	if up < n-2 {
		t.Errorf("pre-processing raised the score of only %d of %d images", up, n)
	}
}

// TestExtract checks that Extract collects the same features and logits as a Batch, for any
// worker count and micro-batch size.
func TestExtract(t *testing.T) {
	m := loadDenseNet10(t)
	ds, err := dataset.OpenCIFAR10(datadir.ForTest(t, "cifar-10-batches-bin/data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	tr, err := Extract(context.Background(), m, ds, n, 2, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*dataset.Pixels)
	for i := range n {
		label, _ := ds.Image(i, x[i*dataset.Pixels:])
		if tr.Labels[i] != label {
			t.Errorf("image %d: label %d, want %d", i, tr.Labels[i], label)
		}
	}
	b := NewBatch(m, m.Graph.NewExec(n))
	if err := b.Load(x, n); err != nil {
		t.Fatal(err)
	}
	for i := range b.Features {
		if tr.Features[i] != b.Features[i] {
			t.Fatalf("feature %d: %g from Extract, %g from a Batch", i, tr.Features[i], b.Features[i])
		}
	}
	for i := range b.Logits {
		if tr.Logits[i] != b.Logits[i] {
			t.Fatalf("logit %d: %g from Extract, %g from a Batch", i, tr.Logits[i], b.Logits[i])
		}
	}
	if tr.N != n || tr.D != 342 || tr.K != 10 || len(tr.Weight) != 3420 || len(tr.Bias) != 10 {
		t.Errorf("Extract: N %d D %d K %d, %d weights, %d biases", tr.N, tr.D, tr.K, len(tr.Weight), len(tr.Bias))
	}
}

// halfULP is the spacing of float16 values at |v| (v itself a float16 value).
func halfULP(v float32) float64 {
	a := math.Abs(float64(v))
	if a < 0x1p-14 {
		return 0x1p-24 // subnormals
	}
	_, e := math.Frexp(a) // a = m·2^e, m in [0.5, 1)
	return math.Ldexp(1, e-11)
}

// TestSharedGradients scores odin and mahalanobis_pre together on successive micro-batches of one
// Batch, in both orders, and expects exactly the scores each gets alone on a fresh Batch: the
// input gradients the batch computes ahead for the second detector must be the ones it would
// have computed itself.
func TestSharedGradients(t *testing.T) {
	f := readFixture(t)
	m := loadDenseNet10(t)
	x := fixtureImages(t, f)
	s := NewStats(m, "densenet10", f.train)
	if err := NewMahalanobis().Fit(context.Background(), f.train, s); err != nil {
		t.Fatal(err)
	}
	newDets := func() []Detector {
		pre := NewMahalanobisPre()
		if err := pre.Use(s); err != nil {
			t.Fatal(err)
		}
		return []Detector{NewODIN(), pre}
	}
	// Micro-batches of 3, 2 and 3 images.
	spans := [][2]int{{0, 3}, {3, 5}, {5, 8}}
	alone := make([][]float64, 2)
	for d := range 2 {
		for _, sp := range spans {
			n := sp[1] - sp[0]
			b := NewBatch(m, m.Graph.NewExec(3))
			if err := b.Load(x[sp[0]*dataset.Pixels:], n); err != nil {
				t.Fatal(err)
			}
			dst := make([]float64, n)
			if err := newDets()[d].Score(context.Background(), b, dst); err != nil {
				t.Fatal(err)
			}
			alone[d] = append(alone[d], dst...)
		}
	}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		dets := newDets()
		b := NewBatch(m, m.Graph.NewExec(3))
		got := make([][]float64, 2)
		for _, sp := range spans {
			n := sp[1] - sp[0]
			if err := b.Load(x[sp[0]*dataset.Pixels:], n); err != nil {
				t.Fatal(err)
			}
			for j, d := range order {
				dst := make([]float64, n)
				if err := dets[d].Score(context.Background(), b, dst); err != nil {
					t.Fatal(err)
				}
				got[d] = append(got[d], dst...)
				// From the second micro-batch on, the first detector's backward passes include
				// the second's.
				if j == 0 && sp[0] > 0 {
					for _, p := range b.pending {
						if p.gen != b.gen {
							t.Errorf("order %v, images %v: a gradient was not computed ahead", order, sp)
						}
					}
				}
			}
		}
		for d := range 2 {
			for i := range got[d] {
				if got[d][i] != alone[d][i] {
					t.Errorf("order %v, %s image %d: %v together, %v alone", order, dets[d].Name(), i, got[d][i], alone[d][i])
				}
			}
		}
	}
}
