package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/gemm"
)

// naiveConvMag is naiveConv that also returns, per output, the sum of the products' magnitudes:
// the scale of the rounding errors any summation order makes.
func naiveConvMag(x []float32, in Shape, c Conv) (out, mag []float64) {
	out, os := naiveConv(x, in, c)
	a := Conv{Out: c.Out, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad, Weight: make([]float32, len(c.Weight))}
	for i, v := range c.Weight {
		a.Weight[i] = float32(math.Abs(float64(v)))
	}
	ax := make([]float32, in.Size())
	for i := range ax {
		ax[i] = float32(math.Abs(float64(x[i])))
	}
	mag, _ = naiveConv(ax, in, a)
	_ = os
	return out, mag
}

// TestWinogradMatchesNaive runs the Winograd path directly on several images with and without
// a fused normalisation, in chunks of various numbers of tile rows (splitting images), and
// checks it against a float64 convolution, and that the chunking does not change a bit.
func TestWinogradMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	cases := []struct{ cin, cout, h, w int }{{5, 7, 16, 16}, {3, 4, 8, 32}, {16, 12, 32, 32}, {1, 1, 4, 16}, {6, 5, 8, 8}, {2, 3, 16, 8}}
	for _, tc := range cases {
		in := Shape{tc.cin, tc.h, tc.w}
		hw := tc.h * tc.w
		c := Conv{Out: tc.cout, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, tc.cout*tc.cin*9, 0.5)}
		bn := randBN(r, tc.cin)
		b := NewBuilder(in)
		pre := b.BatchNorm("bn", b.Input(), bn).id
		a := b.nodes[pre].op.(*affine)
		a.relu = true
		const n, cap = 3, 4
		src := randVec(r, tc.cin*cap*hw, 1)
		var ref []float32 // the first run's output, which every other chunking must reproduce
		for _, withPre := range []bool{false, true} {
			ref = nil
			var p *affine
			if withPre {
				p = a
			}
			for _, rows := range []int{0, 1, 3, 5} {
				wg := newWinograd(tc.cin, tc.cout, tc.h, tc.w, c.Weight, winogradBudget)
				if rows > 0 {
					// Groups two tiles wide take tile rows in pairs.
					wg.rows = rows * (1 + wg.tw%4/2)
				}
				v, m, pp := wg.scratch(cap)
				x := winogradCtx(cap, v, m, pp)
				for _, acc := range []bool{false, true} {
					dst := randVec(r, tc.cout*cap*hw, 1)
					old := append([]float32(nil), dst...)
					wg.run(x, n, src, cap*hw, p, dst, cap*hw, acc, nil)
					for bi := range n {
						img := batchImage(src, p, bi, in, cap)
						want, mag := naiveConvMag(img, in, c)
						for co := range tc.cout {
							for i := range hw {
								got := float64(dst[co*cap*hw+bi*hw+i])
								if acc {
									got -= float64(old[co*cap*hw+bi*hw+i])
								}
								w := want[co*hw+i]
								if d := math.Abs(got - w); d > 1e-5*mag[co*hw+i]+1e-6 {
									t.Fatalf("%+v pre %v rows %d acc %v image %d channel %d pixel %d: got %v want %v (magnitude %v)",
										tc, withPre, rows, acc, bi, co, i, got, w, mag[co*hw+i])
								}
							}
						}
					}
					if acc {
						continue
					}
					if j := sameAsFirst(&ref, dst, tc.cout, cap*hw, n*hw); j >= 0 {
						t.Fatalf("%+v pre %v: %d tile rows per chunk changes output %d: %v vs %v", tc, withPre, rows, j, dst[j], ref[j])
					}
				}
			}
		}
	}
}

// TestWinogradChosen makes sure the layer tests below go through the Winograd path.
func TestWinogradChosen(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		h, w int
		want bool
	}{{16, 16, true}, {32, 32, true}, {8, 32, true}, {8, 8, true}, {16, 8, true}, {4, 8, false}, {7, 7, false}, {16, 12, false}, {6, 6, false}, {28, 28, false}} {
		b := NewBuilder(Shape{2, tc.h, tc.w})
		y := b.Conv2d("c", b.Input(), Conv{Out: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 54, 1)})
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 2, randVec(r, 6, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		c := g.plan.steps[0].op.(*conv)
		if got := c.fwWino != nil && c.bwWino != nil; got != tc.want {
			t.Errorf("%d×%d planes: Winograd %v, want %v", tc.h, tc.w, got, tc.want)
		}
	}
}

// sameAsFirst compares the first n values of each of the rows channels of dst (ld apart) with
// *ref, the output of the first configuration tried, and returns the first index that differs,
// or -1; the first call keeps a copy of dst as *ref.
func sameAsFirst(ref *[]float32, dst []float32, rows, ld, n int) int {
	if *ref == nil {
		*ref = append([]float32(nil), dst...)
		return -1
	}
	for r := range rows {
		for i := range n {
			if j := r*ld + i; dst[j] != (*ref)[j] {
				return j
			}
		}
	}
	return -1
}

// winogradCtx is an execution context with the scratch sizes a Winograd path's scratch method
// gave, for running it alone.
func winogradCtx(cap, v, m, p int) *execCtx {
	return &execCtx{cap: cap, ws: gemm.NewWorkspace(), col: make([]float32, v), tile: make([]float32, m), pad: make([]float32, p)}
}

// batchImage copies image bi of a micro-batch laid out channel-major at capacity cap (channel
// stride cap·H·W) out as one C×H×W image, normalised and rectified by pre when pre is non-nil.
func batchImage(src []float32, pre *affine, bi int, in Shape, cap int) []float32 {
	hw := in.H * in.W
	img := make([]float32, in.Size())
	for ci := range in.C {
		for i := range hw {
			v := src[ci*cap*hw+bi*hw+i]
			if pre != nil {
				v = max(v*pre.scale[ci]+pre.shift[ci], 0)
			}
			img[ci*hw+i] = v
		}
	}
	return img
}
