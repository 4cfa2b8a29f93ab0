package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMulPanelsMatchesMul checks that MulPanels on B written in panel layout gives Mul's products
// bit for bit, for edge rows and columns, K blocks and accumulation.
func TestMulPanelsMatchesMul(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testMulPanelsMatchesMul(t, kern) })
}

func testMulPanelsMatchesMul(t *testing.T, kern kernelID) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range []struct{ m, k, n int }{{12, 48, 64}, {48, 12, 100}, {7, 5, 3}, {100, 400, 37}, {6, 1, 16}, {13, 800, 33}} {
		for _, acc := range []bool{false, true} {
			a := Pack(s.m, s.k, randSlice(r, s.m*s.k), s.k)
			b := randSlice(r, s.k*s.n)
			panels := (s.n + PanelWidth - 1) / PanelWidth
			bp := make([]float32, panels*s.k*PanelWidth)
			for i := range bp {
				bp[i] = float32(math.NaN()) // columns past n must not reach C
			}
			for p := range s.k {
				for j := range s.n {
					bp[(j/PanelWidth)*s.k*PanelWidth+p*PanelWidth+j%PanelWidth] = b[p*s.n+j]
				}
			}
			c0 := randSlice(r, s.m*s.n)
			want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
			a.Mul(want, s.n, b, s.n, s.n, nil, acc, &Workspace{kern: kern})
			a.MulPanels(got, s.n, bp, s.n, acc, &Workspace{kern: kern})
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v acc=%v: element %d = %v, Mul gives %v", s, acc, i, got[i], want[i])
				}
			}
		}
	}
}
