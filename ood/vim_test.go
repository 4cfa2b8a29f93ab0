package ood

import (
	"math"
	"testing"
)

func TestViMByHand(t *testing.T) {
	// W = [[1,0,0],[0,1,0]], b = (−2, 0): the origin u = −W⁺b = (2, 0, 0). Centred training
	// features (±3,0,0), (0,±2,0), (0,0,±1) have second moments 3, 4/3, 1/3 along the axes.
	// Their logits are (x₁, x₂), so the max logits sum to 3 + 0 + 2 + 0 + 0 + 0 = 5.
	// Dim 1: residuals ‖(x₂, x₃)‖ sum to 2+2+1+1 = 6, α = 5/6.
	// Dim 2: residuals |x₃| sum to 2, α = 5/2.
	// Test x = (1,1,1), h = (3,1,1): logits (1,1), log-sum-exp 1 + ln 2; residual √2 (dim 1),
	// 1 (dim 2).
	m := handModel(t, []float32{1, 0, 0, 0, 1, 0}, []float32{-2, 0}, 3, 2)
	var feats [][]float32
	for _, x := range [][]float32{{3, 0, 0}, {-3, 0, 0}, {0, 2, 0}, {0, -2, 0}, {0, 0, 1}, {0, 0, -1}} {
		feats = append(feats, []float32{x[0] + 2, x[1], x[2]})
	}
	d := NewViM()
	s := fitHand(t, m, d, handTrain(m, feats, nil))
	if d.Dim != 1 {
		t.Errorf("default dim %v, want ⌊3/2⌋ = 1", d.Dim)
	}
	u, _, _ := s.Get64("vim.origin", 3)
	expect(t, "origin", u, []float64{2, 0, 0}, 1e-12)
	alpha, _, _ := s.Get64("vim.alpha", 4)
	expect(t, "alpha", alpha[1:3], []float64{5.0 / 6, 5.0 / 2}, 1e-12)
	lse := 1 + math.Ln2
	got := scoreHand(t, m, d, [][]float32{{3, 1, 1}})
	expect(t, "vim dim=1", got, []float64{lse - 5.0/6*math.Sqrt2}, 1e-12)
	d.Dim = 2
	got = scoreHand(t, m, d, [][]float32{{3, 1, 1}})
	expect(t, "vim dim=2", got, []float64{lse - 2.5}, 1e-12)
	d.Dim = 3
	if _, err := scoreHandErr(m, d, []float32{3, 1, 1}); err == nil {
		t.Error("dim 3 of 3 accepted")
	}
}
