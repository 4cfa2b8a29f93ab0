package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortedCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float64{math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), math.SmallestNonzeroFloat64,
		-math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64, 1, -1}
	for _, n := range []int{1, 7, radixMin - 1, radixMin, 3*radixMin + 5} {
		v := make([]float64, n)
		for i := range v {
			switch rng.IntN(4) {
			case 0:
				v[i] = special[rng.IntN(len(special))]
			case 1:
				v[i] = math.Round(rng.NormFloat64()*10) / 10 // ties
			case 2:
				v[i] = math.Float64frombits(rng.Uint64()) // any bit pattern
			default:
				v[i] = rng.NormFloat64()
			}
			if math.IsNaN(v[i]) {
				v[i] = 2
			}
		}
		orig := slices.Clone(v)
		for _, neg := range []bool{false, true} {
			want := make([]float64, n)
			for i, x := range v {
				if neg {
					x = -x
				}
				if x == 0 {
					x = 0
				}
				want[i] = x
			}
			slices.Sort(want)
			got := sortedCopy(v, neg)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("n=%d neg=%v: element %d is %g, want %g", n, neg, i, got[i], want[i])
				}
			}
		}
		if !slices.Equal(v, orig) {
			t.Fatalf("n=%d: input modified", n)
		}
	}
}
