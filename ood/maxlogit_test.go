package ood

import "testing"

func TestMaxLogitByHand(t *testing.T) {
	got := scoreLogits(t, MaxLogit{}, [][]float32{{-1, 5, 2}, {-3, -7, -4}, {0.25, 0.25, 0.125}})
	expect(t, "maxlogit", got, []float64{5, -3, 0.25}, 0)
	if MaxLogit.Params(MaxLogit{}) != nil {
		t.Error("maxlogit has hyperparameters")
	}
}
