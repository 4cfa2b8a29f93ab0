package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/gemm"
)

// TestWinogradEpilogueInCache checks that the bias and clamp the Winograd paths run on each
// piece of output as it is written give the bits of one pass over the whole output afterwards,
// whatever the chunking (chunks that end inside a row of tiles, odd planes whose last tiles are
// cut), with and without a bias.
func TestWinogradEpilogueInCache(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const n, cap = 3, 4
	type runner func(x *execCtx, src, dst []float32, hw int, ep rowEpilogue)
	for _, tc := range []struct {
		name         string
		cin, cout, h int
		chunks       []int
	}{
		{"F(2×2) 7×7", 3, 5, 7, []int{0, 3, 7, 100}},
		{"F(2×2) 14×14", 4, 3, 14, []int{0, 5, 9}},
		{"F(2×2) 9×9", 2, 4, 9, []int{1, 6}},
		{"F(4×4) 16×16", 3, 4, 16, []int{0, 1, 3}},
		{"F(4×4) 8×8", 2, 3, 8, []int{0, 2}},
	} {
		hw := tc.h * tc.h
		w := randVec(r, tc.cout*tc.cin*9, 0.5)
		src := randVec(r, tc.cin*cap*hw, 1)
		for _, chunk := range tc.chunks {
			var run runner
			var v, m, p int
			if winogradFits(tc.h, tc.h) {
				wg := newWinograd(tc.cin, tc.cout, tc.h, tc.h, w, winogradBudget)
				if chunk > 0 {
					wg.rows = chunk * (1 + wg.tw%4/2)
				}
				v, m, p = wg.scratch(cap)
				run = func(x *execCtx, src, dst []float32, hw int, ep rowEpilogue) {
					wg.run(x, n, src, cap*hw, nil, dst, cap*hw, false, ep)
				}
			} else {
				wg := newWinograd2(tc.cin, tc.cout, tc.h, tc.h, w, winogradBudget)
				if chunk > 0 {
					wg.tiles = chunk
				}
				v, m, p = wg.scratch(cap)
				run = func(x *execCtx, src, dst []float32, hw int, ep rowEpilogue) {
					wg.run(x, n, src, cap*hw, nil, dst, cap*hw, false, ep)
				}
			}
			x := winogradCtx(cap, v, m, p)
			for _, withBias := range []bool{false, true} {
				c := &conv{cout: tc.cout, act: true, lo: 0, hi: 0.5}
				if withBias {
					c.bias = randVec(r, tc.cout, 0.3)
				}
				old := randVec(r, tc.cout*cap*hw, 1)
				got := append([]float32(nil), old...)
				want := append([]float32(nil), old...)
				run(x, src, got, hw, c.rowEpilogue())
				run(x, src, want, hw, nil)
				c.epilogue(want, cap*hw, 0, n*hw)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s chunk %d bias %v: element %d is %v, one pass afterwards gives %v", tc.name, chunk, withBias, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestPointwiseEpilogueBlocks checks that a 1×1 convolution with many output channels, whose
// product and epilogue run in column blocks narrower than the product's own (epilogueCols),
// gives the bits of one product over all columns followed by one epilogue pass.
func TestPointwiseEpilogueBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, tc := range []struct{ cin, cout, hw int }{{24, 300, 196}, {16, 960, 49}, {8, 40, 1000}} {
		if tc.cout > 128 && epilogueCols(tc.cout) >= 1024 {
			t.Fatalf("%d channels: column block %d, want it narrower than 1024", tc.cout, epilogueCols(tc.cout))
		}
		const n, cap = 5, 6
		w := randVec(r, tc.cout*tc.cin, 0.5)
		c := &conv{cin: tc.cin, cout: tc.cout, pointwise: true, act: true, lo: 0, hi: 0.7,
			bias: randVec(r, tc.cout, 0.2), fw: gemm.Pack(tc.cout, tc.cin, w, tc.cin),
			in: Shape{tc.cin, tc.hw, 1}, out: Shape{tc.cout, tc.hw, 1}}
		x := &execCtx{cap: cap, ws: gemm.NewWorkspace()}
		ld := x.ld(tc.hw)
		in := randVec(r, tc.cin*ld, 1)
		got := make([]float32, tc.cout*ld)
		c.forward(x, n, [][]float32{in}, got)
		want := make([]float32, tc.cout*ld)
		c.fw.Mul(want, ld, in, ld, n*tc.hw, nil, false, gemm.NewWorkspace())
		c.epilogue(want, ld, 0, n*tc.hw)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: element %d is %v, one product and one epilogue give %v", tc, i, got[i], want[i])
			}
		}
	}
}
