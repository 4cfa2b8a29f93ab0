package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLowerGeom checks the shared lowering against the definition, tap by tap and pixel by
// pixel: im2col exactly (with and without a fused normalisation, in bands of output rows, on a
// channel range of some images), col2im exactly (the same additions in the same order) and as
// im2col's adjoint, ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
func TestLowerGeom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for _, tc := range []struct {
		name                                         string
		kh, kw, h, w, sy, sx, dy, dx, pt, pb, pl, pr int
	}{
		{"stride 2", 3, 3, 9, 11, 2, 2, 1, 1, 1, 1, 1, 1},
		{"stride 1 copy", 3, 3, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1},
		{"stem", 7, 7, 12, 10, 2, 2, 1, 1, 3, 3, 3, 3},
		{"dilation 2 asymmetric", 3, 3, 10, 9, 1, 1, 2, 2, 2, 1, 0, 3},
		{"strides 2×3 dilation 2×1", 3, 2, 11, 13, 2, 3, 2, 1, 0, 2, 1, 0},
		{"pad beyond kernel", 2, 2, 4, 5, 2, 1, 1, 1, 4, 0, 3, 4},
	} {
		oh := (tc.h+tc.pt+tc.pb-tc.dy*(tc.kh-1)-1)/tc.sy + 1
		ow := (tc.w+tc.pl+tc.pr-tc.dx*(tc.kw-1)-1)/tc.sx + 1
		g := lowerGeom{kh: tc.kh, kw: tc.kw,
			y: axis{tc.h, oh, tc.sy, tc.dy, tc.pt}, x: axis{tc.w, ow, tc.sx, tc.dx, tc.pl}}
		const nc, nb, c0, ch, b0, b1 = 4, 4, 1, 2, 1, 3
		hw := tc.h * tc.w
		ld := nb*hw + 5
		src := randVec(r, nc*ld, 1)
		pre := &affine{scale: randVec(r, nc, 1), shift: randVec(r, nc, 0.5), relu: true}
		for _, band := range [][2]int{{0, oh}, {1, max(2, oh-1)}, {oh - 1, oh}} {
			oy0, oy1 := band[0], band[1]
			for _, p := range []*affine{nil, pre, {scale: pre.scale, shift: pre.shift}} {
				cols := (b1 - b0) * (oy1 - oy0) * ow
				rows := ch * tc.kh * tc.kw
				col := make([]float32, rows*cols)
				for i := range col {
					col[i] = float32(math.NaN()) // every entry must be written
				}
				g.im2col(col, cols, src, ld, c0, ch, b0, b1, oy0, oy1, p)
				c := randVec(r, rows*cols, 1)
				got := randVec(r, nc*ld, 1)
				want := append([]float32(nil), got...)
				g.col2im(got, ld, c0, ch, b0, b1, oy0, oy1, c, cols)
				var lhs, rhs float64
				k := 0
				for ci := c0; ci < c0+ch; ci++ {
					for i := range tc.kh {
						for j := range tc.kw {
							for b := b0; b < b1; b++ {
								for oy := oy0; oy < oy1; oy++ {
									for ox := range ow {
										iy, ix := oy*tc.sy-tc.pt+i*tc.dy, ox*tc.sx-tc.pl+j*tc.dx
										var v float32
										inside := iy >= 0 && iy < tc.h && ix >= 0 && ix < tc.w
										at := ci*ld + b*hw + iy*tc.w + ix
										if inside {
											v = src[at]
											if p != nil {
												v = v*p.scale[ci] + p.shift[ci]
												if p.relu {
													v = max(v, 0)
												}
											}
											want[at] += c[k]
										}
										if col[k] != v {
											t.Fatalf("%s rows %d–%d pre %v: im2col (%d, %d, %d) image %d (%d, %d) = %v, want %v",
												tc.name, oy0, oy1, p != nil, ci, i, j, b, oy, ox, col[k], v)
										}
										lhs += float64(col[k]) * float64(c[k])
										if inside && p == nil {
											rhs += float64(src[at]) * float64(c[k])
										}
										k++
									}
								}
							}
						}
					}
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s rows %d–%d: col2im element %d = %v, want %v", tc.name, oy0, oy1, i, got[i], want[i])
					}
				}
				if p == nil {
					// The adjoint as col2im computes it: ⟨x, col2im(c)⟩ from a zero gradient.
					adj := make([]float32, nc*ld)
					g.col2im(adj, ld, c0, ch, b0, b1, oy0, oy1, c, cols)
					var xa float64
					for i, v := range adj {
						xa += float64(src[i]) * float64(v)
					}
					if math.Abs(lhs-xa) > 1e-4*(1+math.Abs(lhs)) || math.Abs(lhs-rhs) > 1e-9*(1+math.Abs(lhs)) {
						t.Fatalf("%s rows %d–%d: ⟨im2col(x), c⟩ = %v, ⟨x, col2im(c)⟩ = %v", tc.name, oy0, oy1, lhs, xa)
					}
				}
			}
		}
	}
}
