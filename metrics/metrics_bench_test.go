package metrics

import (
	"math/rand/v2"
	"testing"
)

func benchScores(n int) (in, out []float64) {
	rng := rand.New(rand.NewPCG(9, 10))
	in, out = make([]float64, n), make([]float64, n)
	for i := range in {
		in[i] = 0.110 + 0.0015*rng.NormFloat64()
		out[i] = 0.108 + 0.0015*rng.NormFloat64()
	}
	return in, out
}

// BenchmarkCompute measures the exact metrics over 1,000,000 + 1,000,000 scores.
func BenchmarkCompute(b *testing.B) {
	in, out := benchScores(1_000_000)
	for b.Loop() {
		if _, err := Compute(in, out, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeReference measures the reference-compatible grid sweep (100,000 thresholds)
// over 1,000,000 + 1,000,000 scores.
func BenchmarkComputeReference(b *testing.B) {
	in, out := benchScores(1_000_000)
	for b.Loop() {
		if _, err := Compute(in, out, Options{ReferenceCompat: true}); err != nil {
			b.Fatal(err)
		}
	}
}
