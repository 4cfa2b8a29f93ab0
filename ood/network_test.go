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
	worst := 0.0
	for i, v := range b.Features[:n*d] {
		want := f.test[i]
		// float16 rounding (half an ulp: 2⁻¹¹ relative, 2⁻²⁵ absolute among subnormals) plus
		// the engine's float32 agreement with PyTorch.
		tol := math.Abs(float64(want))*(0x1p-11+1e-5) + 0x1p-25 + 1e-6
		diff := math.Abs(float64(v - want))
		worst = max(worst, diff/tol)
		if diff > tol {
			t.Fatalf("image %d feature %d: %g, PyTorch (float16) %g", i/d, i%d, v, want)
		}
	}
	t.Logf("features: largest difference %.2f of the tolerance", worst)

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
	compareScores(t, "mahalanobis_pre", pre, f.Scores["mahalanobis_pre eps=0.0014"], 1e-4)
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
