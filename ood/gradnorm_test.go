package ood

import (
	"context"
	"math"
	"testing"
)

func TestGradNormByHand(t *testing.T) {
	// K = 2, h = (1, −2, 3): ‖h‖₁ = 6.
	// Logits (0, 0): softmax is uniform, the KL divergence is at its minimum, the gradient 0.
	// Logits (ln 3, 0): softmax (3/4, 1/4), Σ|s − 1/2| = 1/2, score 1/2 · 6 = 3.
	w := []float32{0, 0, 0, 0, 0, 0}
	m := handModel(t, w, []float32{0, 0}, 3, 2)
	h := []float32{1, -2, 3, 1, -2, 3}
	logits := []float32{0, 0, float32(math.Log(3)), 0}
	dst := make([]float64, 2)
	if err := NewGradNorm().Score(context.Background(), batchOf(m, h, logits, 2), dst); err != nil {
		t.Fatal(err)
	}
	expect(t, "gradnorm", dst, []float64{0, 3}, 1e-7)
	// T = 2: softmax((ln 3)/2, 0) = (√3, 1)/(√3 + 1), Σ|s − 1/2| = (√3 − 1)/(√3 + 1), score /2.
	if err := (&GradNorm{Temperature: 2}).Score(context.Background(), batchOf(m, h, logits, 2), dst); err != nil {
		t.Fatal(err)
	}
	r3 := math.Sqrt(3)
	expect(t, "gradnorm T=2", dst, []float64{0, (r3 - 1) / (r3 + 1) * 6 / 2}, 1e-7)
}
