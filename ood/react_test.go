package ood

import (
	"math"
	"testing"
)

func TestReActByHand(t *testing.T) {
	// Training activations 0 … 5 (three images of two features). NumPy's percentile with linear
	// interpolation: p = 90 sits at rank 0.9·5 = 4.5, so c = 4.5; p = 50 gives 2.5.
	m := handModel(t, []float32{1, 0, 0, 1}, []float32{0, 0.5}, 2, 2)
	tr := handTrain(m, [][]float32{{0, 1}, {2, 3}, {4, 5}}, nil)
	d := NewReAct()
	fitHand(t, m, d, tr)
	c, err := d.Threshold()
	if err != nil || c != 4.5 {
		t.Fatalf("threshold %v (%v), want 4.5", c, err)
	}
	// h = (10, 1) clips to (4.5, 1); logits (4.5, 1.5); energy 4.5 + log(1 + e⁻³).
	// h = (2, 3) is below c and keeps its logits (2, 3.5): 3.5 + log(1 + e^-1.5).
	got := scoreHand(t, m, d, [][]float32{{10, 1}, {2, 3}})
	expect(t, "react", got, []float64{4.5 + math.Log(1+math.Exp(-3)), 3.5 + math.Log(1+math.Exp(-1.5))}, 1e-15)

	d.Percentile = 50
	got = scoreHand(t, m, d, [][]float32{{10, 1}})
	expect(t, "react p=50", got, []float64{2.5 + math.Log(1+math.Exp(-1))}, 1e-15)
	// Between two recorded tenths of a percent the threshold interpolates: 50.05 → 2.5025.
	d.Percentile = 50.05
	if c, _ := d.Threshold(); math.Abs(c-2.5025) > 1e-12 {
		t.Errorf("threshold at 50.05%%: %v, want 2.5025", c)
	}
	d.Percentile = 101
	if _, err := d.Threshold(); err == nil {
		t.Error("percentile 101 accepted")
	}
}

func TestPercentileSorted(t *testing.T) {
	a := []float32{1, 2, 4, 8}
	for _, c := range []struct{ f, want float64 }{{0, 1}, {1, 8}, {0.5, 3}, {0.25, 1.75}, {0.9, 6.8}} {
		if got := percentileSorted(a, c.f); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile %v of %v: %v, want %v", c.f, a, got, c.want)
		}
	}
}
