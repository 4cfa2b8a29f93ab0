package ood

import (
	"context"
	"strings"
	"testing"
)

func TestMahalanobisByHand(t *testing.T) {
	// Class 0: (±1, 0), (0, ±2) around (0, 0); class 1: the same around (10, 0). The tied
	// covariance is diag(4/8, 16/8) = diag(0.5, 2), the precision diag(2, 0.5).
	// h = (1, 1): distances 2·1 + 0.5·1 = 2.5 and 2·81 + 0.5 = 162.5, score −2.5.
	// h = (6, 2): distances 2·36 + 0.5·4 = 74 and 2·16 + 2 = 34, score −34.
	m := handModel(t, []float32{1, 0, 0, 0}, []float32{0, 0}, 2, 2)
	feats := [][]float32{{1, 0}, {-1, 0}, {0, 2}, {0, -2}, {11, 0}, {9, 0}, {10, 2}, {10, -2}}
	labels := []int{0, 0, 0, 0, 1, 1, 1, 1}
	d := NewMahalanobis()
	s := fitHand(t, m, d, handTrain(m, feats, labels))
	got := scoreHand(t, m, d, [][]float32{{1, 1}, {6, 2}})
	expect(t, "mahalanobis", got, []float64{-2.5, -34}, 1e-12)
	prec, _, _ := s.Get64("mahalanobis.precision", 2, 2)
	expect(t, "precision", prec, []float64{2, 0, 0, 0.5}, 1e-12)
	if d.Params() != nil {
		t.Error("plain mahalanobis exposes ε")
	}
	if p := NewMahalanobisPre().Params(); len(p) != 1 || p[0].Name != "magnitude" || *p[0].Value != 0.0014 {
		t.Errorf("mahalanobis_pre params %v", p)
	}
}

func TestMahalanobisPredictedLabels(t *testing.T) {
	// Without labels the classes are the network's predictions: logits (h₀ − 5, 0) put the
	// images left of 5 in class 1 and the others in class 0, the same split as the labels above.
	m := handModel(t, []float32{1, 0, 0, 0}, []float32{-5, 0}, 2, 2)
	feats := [][]float32{{1, 0}, {-1, 0}, {0, 2}, {0, -2}, {11, 0}, {9, 0}, {10, 2}, {10, -2}}
	d := NewMahalanobis()
	fitHand(t, m, d, handTrain(m, feats, []int{-1, -1, -1, -1, -1, -1, -1, -1}))
	got := scoreHand(t, m, d, [][]float32{{1, 1}, {6, 2}})
	expect(t, "mahalanobis", got, []float64{-2.5, -34}, 1e-12)
}

func TestMahalanobisEmptyClass(t *testing.T) {
	m := handModel(t, []float32{1, 0, 0, 0}, []float32{0, 0}, 2, 2)
	tr := handTrain(m, [][]float32{{1, 0}, {2, 0}, {3, 1}}, []int{0, 0, 0})
	err := NewMahalanobis().Fit(context.Background(), tr, NewStats(m, "hand", tr))
	if err == nil || !strings.Contains(err.Error(), "class 1 has no training images") {
		t.Errorf("fit with an empty class: %v", err)
	}
}
