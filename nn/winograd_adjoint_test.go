package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/gemm"
)

// naiveConvGrad is the input gradient of a 3×3 stride-1 pad-1 convolution with kernel w
// (cout × cin × 3 × 3) for the output gradient gy (cout × h × w), in float64, with the sum of
// the terms' magnitudes: the scale of any summation order's rounding errors.
func naiveConvGrad(gy, w []float32, cin, cout, h, wd int) (dx, mag []float64) {
	dx, mag = make([]float64, cin*h*wd), make([]float64, cin*h*wd)
	for ci := range cin {
		for y := range h {
			for x := range wd {
				var s, m float64
				for co := range cout {
					for i := range 3 {
						for j := range 3 {
							oy, ox := y-i+1, x-j+1
							if oy < 0 || oy >= h || ox < 0 || ox >= wd {
								continue
							}
							p := float64(w[((co*cin+ci)*3+i)*3+j]) * float64(gy[(co*h+oy)*wd+ox])
							s, m = s+p, m+math.Abs(p)
						}
					}
				}
				dx[(ci*h+y)*wd+x], mag[(ci*h+y)*wd+x] = s, m
			}
		}
	}
	return dx, mag
}

// TestWinogradAdjoint checks the adjoint input gradient against a float64 one, storing and
// adding, and that an image's gradient does not change by a bit with the images beside it.
func TestWinogradAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct{ cin, cout, h, w int }{{5, 7, 16, 16}, {3, 4, 8, 32}, {6, 5, 8, 8}, {2, 3, 16, 8}, {40, 24, 8, 8}} {
		hw := tc.h * tc.w
		k := randVec(r, tc.cout*tc.cin*9, 0.5)
		wg := newWinograd(tc.cin, tc.cout, tc.h, tc.w, k, winogradBudget)
		const cap = 3
		gy := randVec(r, tc.cout*cap*hw, 1)
		var alone [][]float32 // each image's gradient computed alone
		for _, n := range []int{1, 3} {
			x := &execCtx{cap: cap, ws: gemm.NewWorkspace()}
			col, tile, pad := wg.adjointScratch(cap)
			x.col, x.tile, x.pad = make([]float32, col), make([]float32, tile), make([]float32, pad)
			for _, acc := range []bool{false, true} {
				for b0 := 0; b0 < cap; b0 += n {
					// Images b0 … b0+n−1 at the start of a micro-batch of their own.
					src := make([]float32, tc.cout*cap*hw)
					for co := range tc.cout {
						copy(src[co*cap*hw:co*cap*hw+n*hw], gy[co*cap*hw+b0*hw:])
					}
					dst := randVec(r, tc.cin*cap*hw, 1)
					old := append([]float32(nil), dst...)
					wg.adjoint(x, n, src, cap*hw, dst, cap*hw, acc)
					for bi := range n {
						img := make([]float32, tc.cout*hw)
						for co := range tc.cout {
							copy(img[co*hw:(co+1)*hw], src[co*cap*hw+bi*hw:])
						}
						want, mag := naiveConvGrad(img, k, tc.cin, tc.cout, tc.h, tc.w)
						got := make([]float32, tc.cin*hw)
						for ci := range tc.cin {
							for i := range hw {
								j := ci*cap*hw + bi*hw + i
								got[ci*hw+i] = dst[j]
								g := float64(dst[j])
								if acc {
									g -= float64(old[j])
								}
								if d := math.Abs(g - want[ci*hw+i]); d > 2e-5*mag[ci*hw+i]+1e-6 {
									t.Fatalf("%+v acc %v image %d channel %d pixel %d: got %v want %v (magnitude %v)",
										tc, acc, b0+bi, ci, i, g, want[ci*hw+i], mag[ci*hw+i])
								}
							}
						}
						if acc {
							continue
						}
						if n == 1 {
							alone = append(alone, got)
							continue
						}
						for i, v := range got {
							if v != alone[b0+bi][i] {
								t.Fatalf("%+v: image %d's gradient element %d is %v beside other images, %v alone", tc, b0+bi, i, v, alone[b0+bi][i])
							}
						}
					}
				}
			}
		}
	}
}

// TestWinogradAdjointChosen: wide layers take the adjoint and keep one set of transformed
// kernels, and their network gradient agrees with the flipped-kernel Winograd's.
func TestWinogradAdjointChosen(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	in := Shape{320, 8, 8}
	w := randVec(r, 640*320*9, 0.05)
	bn := randBN(r, 320)
	var grads [2][]float32
	for i, noAdjoint := range []bool{false, true} {
		b := NewBuilder(in)
		y := b.Conv2d("c", b.ReLU(b.BatchNorm("bn", b.Input(), bn)), Conv{Out: 640, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: w})
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 3, randVec(rand.New(rand.NewPCG(5, 5)), 3*640, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range g.plan.steps {
			if c, ok := st.op.(*conv); ok {
				if noAdjoint {
					c.prepareAll(false, true)
				}
				if c.bwAdjoint == noAdjoint || (c.bwWino == nil) == noAdjoint {
					t.Fatalf("noAdjoint %v: adjoint %v, flipped Winograd %v", noAdjoint, c.bwAdjoint, c.bwWino != nil)
				}
			}
		}
		e := g.NewExec(2)
		if err := e.Forward(randVec(rand.New(rand.NewPCG(6, 6)), 2*in.Size(), 1), 2); err != nil {
			t.Fatal(err)
		}
		if grads[i], err = e.Backward("", []float32{1, -2, 0.5, -1, 0.25, 2}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var worst float64
	for i, v := range grads[0] {
		worst = max(worst, math.Abs(float64(v-grads[1][i])))
	}
	var scale float64
	for _, v := range grads[1] {
		scale = max(scale, math.Abs(float64(v)))
	}
	if worst > 1e-4*scale {
		t.Errorf("adjoint and flipped-kernel gradients differ by %.3g (largest gradient %.3g)", worst, scale)
	}
	t.Logf("adjoint against flipped-kernel Winograd: max difference %.3g, largest gradient %.3g", worst, scale)
}
