package metrics_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/odin-ood/odin/metrics"
)

func ExampleBootstrap() {
	// Two detectors scoring the same 2,000 in-distribution and 2,000 OOD images; the second
	// separates them a little better.
	rng := rand.New(rand.NewPCG(1, 2))
	in, out := make([][]float64, 2), make([][]float64, 2)
	for d := range 2 {
		in[d], out[d] = make([]float64, 2000), make([]float64, 2000)
	}
	for i := range 2000 {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		in[0][i], in[1][i] = 1.5+a, 1.6+a+0.2*rng.NormFloat64()
		out[0][i], out[1][i] = b, b+0.2*rng.NormFloat64()
	}
	iv, err := metrics.Bootstrap(context.Background(), in, out, metrics.BootstrapOptions{Seed: 7, Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	for d, r := range iv.Methods {
		fmt.Printf("method %d: AUROC %v\n", d, r.Percent().AUROC)
	}
	diff, err := iv.Diff(1, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("paired difference: AUROC %+.2f [%+.2f, %+.2f]\n", 100*diff.AUROC.Value, 100*diff.AUROC.Low, 100*diff.AUROC.High)
	// The two intervals overlap, but the paired interval of the difference, on the same
	// resampled images, excludes 0: the second detector is better on such images.

	// Output:
	// method 0: AUROC 85.8 [84.6, 86.9]
	// method 1: AUROC 87.1 [86.0, 88.1]
	// paired difference: AUROC +1.30 [+1.06, +1.57]
}
