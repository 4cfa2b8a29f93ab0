package collection

import (
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

// TestHistogramExact: metrics of histograms merged in any grouping equal those of the raw scores.
func TestHistogramExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var in, out []float64
	parts := make([]Histogram, 5)
	for i := range 3000 {
		v := float64(r.IntN(400)) / 397 // many ties
		isIn := r.IntN(3) > 0
		if isIn {
			v += 0.1
			in = append(in, v)
		} else {
			out = append(out, v)
		}
		parts[i%5].Add(v, isIn)
	}
	want, err := metrics.Compute(in, out, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var a, b Histogram
	a.Merge(&parts[0])
	a.Merge(&parts[3])
	b.Merge(&parts[4])
	b.Merge(&parts[1])
	b.Merge(&parts[2])
	b.Merge(&a)
	got, err := b.Metrics(metrics.Options{})
	if err != nil || got != want {
		t.Errorf("merged: %+v, %v; want %+v", got, err, want)
	}
	if n := len(b.Scores); n >= 3000 || n < 400 {
		t.Errorf("%d distinct entries", n)
	}
	if i, o := b.Counts(); int(i) != len(in) || int(o) != len(out) {
		t.Errorf("counts %d, %d", i, o)
	}
}
