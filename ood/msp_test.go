package ood

import (
	"math"
	"testing"
)

func TestMSPByHand(t *testing.T) {
	// softmax([0, ln 3]) = [1/4, 3/4]; softmax([2, 2, 2]) is uniform.
	got := scoreLogits(t, MSP{}, [][]float32{{0, float32(math.Log(3))}})
	expect(t, "msp", got, []float64{0.75}, 1e-7)
	got = scoreLogits(t, MSP{}, [][]float32{{2, 2, 2}, {-100, 0, 100}})
	expect(t, "msp", got, []float64{1.0 / 3, 1 / (1 + math.Exp(-100) + math.Exp(-200))}, 1e-15)
}
