//go:build amd64 && !purego

package vec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWinogradPhasesPaths runs the AVX2 and AVX-512 code on one call's worth of rows of
// a plane as nn's Winograd convolution makes them (six rows: a tile row and its neighbours'
// edges), alternating the two, so that their figures come from the same conditions.
func BenchmarkWinogradPhasesPaths(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range []int{32, 16, 8} {
		for _, rows := range []int{6, 8} {
			h := w
			tw := w / 4
			ps := (h/4 + 1) * tw
			src := randSlice(r, rows*w)
			p := make([]float32, 24*ps)
			for _, wide := range []bool{false, true} {
				if wide && !cpuHasAVX512() {
					continue
				}
				f := asmPhases(wide)
				name := map[bool]string{false: "avx2", true: "avx512"}[wide]
				b.Run(fmt.Sprintf("w=%d/rows=%d/%s", w, rows, name), func(b *testing.B) {
					for b.Loop() {
						f(p, ps, src, w, 3, rows, 0.5, 0.1, true)
					}
				})
			}
		}
	}
}
