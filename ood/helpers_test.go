package ood

import (
	"context"
	"math"
	"testing"

	"github.com/odin-ood/odin/models"
)

// handModel is a network that is only a final layer of k×d weights w and biases b, with its
// input tapped as "features", for hand-worked examples.
func handModel(t testing.TB, w, b []float32, d, k int) *models.Model {
	return linearModel(t, w, b, d, k)
}

// handTrain makes training features for hand-worked examples; logits are W·h + b.
func handTrain(m *models.Model, features [][]float32, labels []int) *Train {
	w, b, _ := m.Graph.Linear()
	k, d := len(b), len(features[0])
	t := &Train{Name: "hand", N: len(features), D: d, K: k, Weight: w, Bias: b, Labels: labels}
	for _, h := range features {
		t.Features = append(t.Features, h...)
		for j := range k {
			s := b[j]
			for c := range d {
				s += w[j*d+c] * h[c]
			}
			t.Logits = append(t.Logits, s)
		}
	}
	return t
}

// scoreHand scores feature vectors (logits W·h + b) with d.
func scoreHand(t *testing.T, m *models.Model, d Detector, features [][]float32) []float64 {
	t.Helper()
	tr := handTrain(m, features, nil)
	dst := make([]float64, tr.N)
	if err := d.Score(context.Background(), batchOf(m, tr.Features, tr.Logits, tr.N), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// scoreLogits scores logit vectors with d, on a network of k classes without features.
func scoreLogits(t *testing.T, d Detector, logits [][]float32) []float64 {
	t.Helper()
	k := len(logits[0])
	m := handModel(t, make([]float32, k), make([]float32, k), 1, k)
	var flat []float32
	for _, f := range logits {
		flat = append(flat, f...)
	}
	dst := make([]float64, len(logits))
	if err := d.Score(context.Background(), batchOf(m, make([]float32, len(logits)), flat, len(logits)), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func expect(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.15g, want %.15g", what, i, got[i], want[i])
		}
	}
}

// fitHand fits a detector on hand-made training features.
func fitHand(t *testing.T, m *models.Model, d Detector, tr *Train) *Stats {
	t.Helper()
	s := NewStats(m, "hand", tr)
	if err := d.(Fitted).Fit(context.Background(), tr, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// scoreHandErr scores one feature vector and returns the error.
func scoreHandErr(m *models.Model, d Detector, h []float32) (float64, error) {
	tr := handTrain(m, [][]float32{h}, nil)
	dst := make([]float64, 1)
	err := d.Score(context.Background(), batchOf(m, tr.Features, tr.Logits, 1), dst)
	return dst[0], err
}
