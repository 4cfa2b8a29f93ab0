package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDwRows2MatchesGo checks the stride-2 row kernel of depthwise convolutions against the Go
// loop, bit for bit, on exactly as many source values as it may read (so that a read past them
// would show under the race detector or fault at a page end in the assembly).
func TestDwRows2MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for _, n := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 28, 56} {
		for _, kw := range []int{1, 3, 5} {
			for _, kh := range []int{1, 2, 3} {
				for _, dil := range []int{1, 2} {
					rs := 2*n + 3
					src := randVec(r, 2*(n-1)+(kh-1)*rs+(kw-1)*dil+1, 1)
					w, out := randVec(r, kw*kh, 1), randVec(r, n, 1)
					want := make([]float32, n)
					dwRows2Go(want, src, w, kw, dil, kh, rs, 0.25)
					dwRows2(out, src, w, kw, dil, kh, rs, 0.25)
					for i := range out {
						if out[i] != want[i] {
							t.Fatalf("n %d kw %d kh %d dil %d: element %d is %v, Go %v", n, kw, kh, dil, i, out[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestDepthwisePlanesMatchPixel checks the plane paths of the depthwise forward pass (flatPlane,
// adding or not, and rowsPlane at strides 1 and 2) against pixel, the tap-by-tap definition, bit
// for bit, over paddings that leave columns on either side and odd and even widths. The plane
// lies between NaNs, so that a kernel reading a tap outside it would show.
func TestDepthwisePlanesMatchPixel(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	nan := float32(math.NaN())
	for _, sh := range []int{1, 5, 8} {
		for _, sw := range []int{1, 6, 7, 16, 19, 112} {
			for _, k := range []int{1, 3, 5} {
				for _, s := range []int{1, 2} {
					for _, dil := range []int{1, 2} {
						for _, pad := range []int{0, 1, 2, 3} {
							d := dwGeom{sh: sh, sw: sw, kh: k, kw: k, sy: s, sx: s, dy: dil, dx: dil, pt: pad, pl: pad}
							d.dh = (sh+2*pad-dil*(k-1)-1)/s + 1
							d.dw = (sw+2*pad-dil*(k-1)-1)/s + 1
							if sh+2*pad < dil*(k-1)+1 || sw+2*pad < dil*(k-1)+1 {
								continue
							}
							d = d.withMask()
							const guard = 300
							buf := make([]float32, guard+sh*sw+guard)
							for i := range buf {
								buf[i] = nan
							}
							src := buf[guard : guard+sh*sw]
							copy(src, randVec(r, sh*sw, 1))
							w := randVec(r, k*k, 1)
							// A tile too short for stride2Plane's padded copy, and one long enough.
							for _, nt := range []int{(d.dw-1)*s + 1 + 2*(k-1)*dil + 8, sh * (sw + 2*pad + k*dil)} {
								for _, add := range []bool{false, true} {
									if add && !d.flat() {
										continue
									}
									got := randVec(r, d.dh*d.dw, 1)
									want := make([]float32, len(got))
									for y := range d.dh {
										for x := range d.dw {
											want[y*d.dw+x] = d.pixel(got, src, w, y, x, add, 0.5)
										}
									}
									if d.flat() {
										d.flatPlane(got, src, w, add, 0.5)
									} else {
										d.rowsPlane(got, src, w, make([]float32, nt), 0.5)
									}
									for i := range got {
										if got[i] != want[i] {
											t.Fatalf("%+v tile %d add %v: pixel %d is %v, want %v", d, nt, add, i, got[i], want[i])
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestDwGeomRows checks rows' division-free stride-1 dilation case against the kernel rows'
// definition: kernel row i is inside when its source row y·sy + i·dy − pt is in [0, sh).
func TestDwGeomRows(t *testing.T) {
	for _, dy := range []int{1, 2, 3} {
		for _, sy := range []int{1, 2} {
			for pt := range 5 {
				for sh := 1; sh < 6; sh++ {
					for kh := 1; kh < 6; kh++ {
						d := dwGeom{sh: sh, kh: kh, sy: sy, dy: dy, pt: pt}
						for y := range 8 {
							lo, hi := d.rows(y)
							for i := range kh {
								r := y*sy + i*dy - pt
								if in := i >= lo && i < hi; in != (r >= 0 && r < sh) {
									t.Fatalf("%+v y %d: rows [%d, %d), kernel row %d reads source row %d", d, y, lo, hi, i, r)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestDwRows3MatchesGo checks the three-tap row kernel (AVX-512 where the CPU and ODIN_KERNEL
// allow, else the AVX2 one) against the Go loop, bit for bit, over lengths that reach every block
// size and tail, with random masks, dilations and kernel rows, with and without adding.
func TestDwRows3MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	for _, n := range []int{1, 15, 16, 17, 63, 64, 65, 79, 80, 130, 200} {
		for _, kh := range []int{1, 3, 4} {
			for _, dil := range []int{1, 3} {
				for _, add := range []bool{false, true} {
					rs := n + 7
					src := randVec(r, n+(kh-1)*rs+2*dil, 1)
					w, out := randVec(r, 3*kh, 1), randVec(r, n, 1)
					mask := make([]uint32, 3*n)
					for i := range mask {
						if r.IntN(5) != 0 {
							mask[i] = ^uint32(0)
						}
					}
					want := append([]float32(nil), out...)
					dwRowsGo(want, src, w, mask, 3, dil, kh, rs, n, add, -0.5)
					dwRows(out, src, w, mask, 3, dil, kh, rs, n, add, -0.5)
					for i := range out {
						if out[i] != want[i] {
							t.Fatalf("n %d kh %d dil %d add %v: element %d is %v, Go %v", n, kh, dil, add, i, out[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMobileNetV2KernelsMatchGo runs MobileNetV2 (at 64×64, random weights) forward and
// backward with this package's vector kernels and again with its Go loops, and wants the same
// logits and input gradient bit for bit: the depthwise row kernels, the epilogue's bias and
// clamp and the stride-2 path compute exactly what the loops compute.
func TestMobileNetV2KernelsMatchGo(t *testing.T) {
	g := mobileNetV2(t, 64)
	const n = 3
	x := randVec(rand.New(rand.NewPCG(3, 4)), n*g.Input().Size(), 1)
	seed := randVec(rand.New(rand.NewPCG(5, 6)), n*1000, 1e-3)
	run := func() (logits, grad []float32) {
		e := g.NewExec(n)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		logits = e.Logits(nil)
		grad, err := e.Backward("", seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		return logits, grad
	}
	l0, g0 := run()
	a2, a512 := hasAVX2, hasAVX512
	hasAVX2, hasAVX512 = false, false
	l1, g1 := run()
	hasAVX2, hasAVX512 = a2, a512
	for i := range l0 {
		if math.Float32bits(l0[i]) != math.Float32bits(l1[i]) {
			t.Fatalf("logit %d: %v with the kernels, %v with the Go loops", i, l0[i], l1[i])
		}
	}
	for i := range g0 {
		if math.Float32bits(g0[i]) != math.Float32bits(g1[i]) {
			t.Fatalf("gradient %d: %v with the kernels, %v with the Go loops", i, g0[i], g1[i])
		}
	}
}

// TestStride2WideKernelMatchesPixel covers the stride-2 row kernel's path for rows of more than
// 16 taps (lane masks computed tap by tap) against pixel, bit for bit.
func TestStride2WideKernelMatchesPixel(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	for _, sw := range []int{20, 45, 90} {
		d := dwGeom{sh: 3, sw: sw, kh: 2, kw: 17, sy: 2, sx: 2, dy: 1, dx: 1, pt: 1, pl: 8}
		d.dh, d.dw = (3+2-2)/2+1, (sw+16-17)/2+1
		d = d.withMask()
		src, w := randVec(r, 3*sw, 1), randVec(r, 2*17, 1)
		got := make([]float32, d.dh*d.dw)
		d.rowsPlane(got, src, w, nil, 0.5)
		for y := range d.dh {
			for x := range d.dw {
				if want := d.pixel(got, src, w, y, x, false, 0.5); got[y*d.dw+x] != want {
					t.Fatalf("width %d: pixel (%d, %d) is %v, want %v", sw, y, x, got[y*d.dw+x], want)
				}
			}
		}
	}
}
