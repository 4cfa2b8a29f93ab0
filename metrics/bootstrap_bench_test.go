package metrics

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkBootstrapRow measures a full row of the paper: 10 methods on 9,000 + 9,000 images,
// 1,000 resamples, on two workers.
func BenchmarkBootstrapRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	in, out := make([][]float64, 10), make([][]float64, 10)
	for m := range in {
		in[m], out[m] = normalScores(rng, 9000, 0.2*float64(m+1))
	}
	for b.Loop() {
		if _, err := Bootstrap(context.Background(), in, out, BootstrapOptions{Workers: 2}); err != nil {
			b.Fatal(err)
		}
	}
}
