package ood

import (
	"context"
	"math"
	"testing"
)

func TestEnergyByHand(t *testing.T) {
	// T = 1: log(e¹ + e² + e³) = 3 + log(1 + e⁻¹ + e⁻²).
	got := scoreLogits(t, NewEnergy(), [][]float32{{1, 2, 3}, {0, 0, 0}, {1000, 1000, -1000}})
	want := []float64{3 + math.Log(1+math.Exp(-1)+math.Exp(-2)), math.Log(3), 1000 + math.Log(2)}
	expect(t, "energy", got, want, 1e-15)
	// T = 2: 2·log(e^½ + e¹ + e^1.5) = 3 + 2·log(1 + e^-½ + e⁻¹).
	got = scoreLogits(t, &Energy{Temperature: 2}, [][]float32{{1, 2, 3}})
	expect(t, "energy T=2", got, []float64{3 + 2*math.Log(1+math.Exp(-0.5)+math.Exp(-1))}, 1e-15)
}

func TestEnergyBadTemperature(t *testing.T) {
	d := &Energy{Temperature: 0}
	if err := d.Score(context.Background(), batchOf(handModel(t, []float32{0}, []float32{0}, 1, 1), []float32{0}, []float32{0}, 1), make([]float64, 1)); err == nil {
		t.Error("temperature 0 accepted")
	}
}
