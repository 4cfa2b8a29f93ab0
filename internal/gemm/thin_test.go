package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestThinMatchesAVX2 checks the AVX-512 kernel's path for products of at most thinRows rows
// (kernelThin: B read in place, ragged last row panel stored straight to C) against the AVX2
// kernel bit for bit, for every M up to thinRows+1, with and without a row operation and
// accumulation, and that it writes nothing outside C's M rows and n columns.
func TestThinMatchesAVX2(t *testing.T) {
	for _, k := range []kernelID{kernAVX2, kernAVX512} {
		if why := whyNot(k); why != "" {
			t.Skipf("thin AVX-512 path not tested: %s", why)
		}
	}
	rng := rand.New(rand.NewPCG(31, 32))
	w2, w5 := &Workspace{kern: kernAVX2}, &Workspace{kern: kernAVX512}
	ns := []int{nr, nr + 1, 2*nr - 1, 3 * nr, 100, ncMax, ncMax + nr + 3}
	ks := []int{1, 2, 3, 4, 5, 7, 16, 32, 96, kcMax + 1}
	specials := []float32{float32(math.Copysign(0, -1)), 0, 1e-42, float32(math.Inf(1)), float32(math.NaN())}
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 17, 18, 19, 23, 24, 25, 31, 32, 47, 48, 49, 95, 96, 97, 144, 2*mcMax + 5} {
		for it := range 6 {
			n, k := ns[rng.IntN(len(ns))], ks[rng.IntN(len(ks))]
			switch {
			case it == 0:
				n, k = 2*nr, thinK // the largest K that takes the thin path for every M
			case m > thinRows && it%2 == 0:
				k = min(k, thinK)
			}
			tc := newCase(rng, m, n, k)
			tc.ldc = n + 1 + rng.IntN(20)
			tc.c0 = randSlice(rng, (m-1)*tc.ldc+n)
			for range len(tc.b)/97 + 1 {
				tc.b[rng.IntN(len(tc.b))] = specials[rng.IntN(len(specials))]
			}
			// One guard row after C: the ragged store must not reach it.
			c2 := append(append([]float32(nil), tc.c0...), randSlice(rng, tc.ldc)...)
			c5 := append([]float32(nil), c2...)
			guard := append([]float32(nil), c2[len(tc.c0):]...)
			pa := Pack(m, k, tc.a, tc.lda)
			pa.Mul(c2, tc.ldc, tc.b, tc.ldb, n, tc.op, tc.acc, w2)
			pa.Mul(c5, tc.ldc, tc.b, tc.ldb, n, tc.op, tc.acc, w5)
			what := fmt.Sprintf("Mul %v", tc)
			sameAll(t, what, c5, c2)
			sameAll(t, what+" guard row", c5[len(tc.c0):], guard)
			tc.checkPadding(t, c5)
		}
	}
}

// TestThinKernelRagged calls kernelThin directly for every row count, against the tile-by-tile
// kernel (kernelPack into a full tile, then the rows kept), checking the rows past rows and
// the columns past the panels are left alone.
func TestThinKernelRagged(t *testing.T) {
	if why := whyNot(kernAVX512); why != "" {
		t.Skipf("kernelThin not tested: %s", why)
	}
	rng := rand.New(rand.NewPCG(33, 34))
	const k, panels, ldb, ldc = 13, 3, 3*nr + 5, 3*nr + 7
	for rows := 1; rows <= thinRows; rows++ {
		groups := (rows + mr - 1) / mr
		a := randSlice(rng, groups*k*mr)
		src := randSlice(rng, (k-1)*ldb+panels*nr)
		c0 := randSlice(rng, (thinRows+1)*ldc)
		for _, beta := range []bool{false, true} {
			got := append([]float32(nil), c0...)
			if !kernelThin(kernAVX512, k, a, k*mr, src, ldb, got, ldc, beta, rows, panels, nil, nil, false) {
				t.Fatal("kernelThin refused an AVX-512 call")
			}
			want := append([]float32(nil), c0...)
			tile, bp := make([]float32, mr*nr), make([]float32, k*nr)
			for q := range panels {
				for g := range groups {
					kernelPack(kernAVX512, k, a[g*k*mr:], src[q*nr:], ldb, bp, tile, nr, false, nil, nil, false, 0)
					for r := range min(mr, rows-g*mr) {
						for j := range nr {
							v, o := tile[r*nr+j], (g*mr+r)*ldc+q*nr+j
							if beta {
								v += want[o]
							}
							want[o] = v
						}
					}
				}
			}
			sameAll(t, fmt.Sprintf("rows=%d beta=%v", rows, beta), got, want)
		}
	}
}
