package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMulIndirect(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testMulIndirect(t, kern) })
}

func testMulIndirect(t *testing.T, kern kernelID) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 200 {
		m, k, n := 1+r.IntN(20), 1+r.IntN(60), 1+r.IntN(70)
		if trial == 0 {
			m, k, n = 12, 432, 1088
		}
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		b := make([]float32, 300+k+RoundUp(n))
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		off := make([]int, k)
		for i := range off {
			off[i] = r.IntN(len(b) - RoundUp(n) - nr + 1)
		}
		p := Pack(m, k, a, k)
		acc := trial%2 == 1
		c := make([]float32, m*n)
		for i := range c {
			c[i] = float32(r.NormFloat64())
		}
		c0 := append([]float32(nil), c...)
		p.mulIndirect(kern, c, n, b, off, n, acc)
		for i := range m {
			for j := range n {
				var want, mag float64
				for q := range k {
					v := float64(a[i*k+q]) * float64(b[off[q]+j])
					want += v
					mag += math.Abs(v)
				}
				if acc {
					want += float64(c0[i*n+j])
				}
				if d := math.Abs(float64(c[i*n+j]) - want); d > 1e-5*(mag+1) {
					t.Fatalf("m=%d k=%d n=%d acc=%v: C[%d][%d] = %v, want %v", m, k, n, acc, i, j, c[i*n+j], want)
				}
			}
		}
		// A column's value must not depend on how many columns are computed with it.
		j := r.IntN(n)
		one := make([]float32, m)
		shifted := make([]int, k)
		for q := range off {
			shifted[q] = off[q] + j
		}
		p.mulIndirect(kern, one, 1, b, shifted, 1, false)
		c2 := make([]float32, m*n)
		p.mulIndirect(kern, c2, n, b, off, n, false)
		for i := range m {
			if one[i] != c2[i*n+j] {
				t.Fatalf("m=%d k=%d n=%d: column %d alone %v, in a batch %v", m, k, n, j, one[i], c2[i*n+j])
			}
		}
	}
}
