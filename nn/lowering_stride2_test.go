package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/vec"
)

// specialVec returns n random floats, a quarter of them −0, infinities or NaNs with payloads,
// whose bits the stride-2 moves must keep.
func specialVec(r *rand.Rand, n int) []float32 {
	special := []uint32{0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0xffc12345, 0x7f800001, 0x00000001}
	v := randVec(r, n, 1)
	for i := range v {
		if r.IntN(4) == 0 {
			v[i] = math.Float32frombits(special[r.IntN(len(special))])
		}
	}
	return v
}

// im2colScalar and col2imScalar are the element-by-element loops that im2col (without
// normalisation) and col2im ran before vec.Gather2 and vec.AddScatter2 took their stride-2 rows.
func im2colScalar(g lowerGeom, col []float32, cols int, src []float32, ld, c0, ch, b0, b1, oy0, oy1 int) {
	w, ow := g.x.n, g.x.o
	hw, bhw := g.y.n*w, (oy1-oy0)*ow
	for ci := range ch {
		for i := range g.kh {
			ylo, yhi := g.y.band(i, oy0, oy1)
			for j := range g.kw {
				row := col[((ci*g.kh+i)*g.kw+j)*cols:]
				xlo, xhi := g.x.valid(j)
				for b := b0; b < b1; b++ {
					plane := src[(c0+ci)*ld+b*hw:]
					dst := row[(b-b0)*bhw : (b-b0+1)*bhw]
					clear(dst[:(ylo-oy0)*ow])
					clear(dst[(yhi-oy0)*ow:])
					for oy := ylo; oy < yhi; oy++ {
						d := dst[(oy-oy0)*ow : (oy-oy0+1)*ow]
						clear(d[:xlo])
						clear(d[xhi:])
						line := plane[(oy*g.y.s-g.y.p+i*g.y.d)*w:]
						ix := xlo*g.x.s - g.x.p + j*g.x.d
						for ox := xlo; ox < xhi; ox++ {
							d[ox] = line[ix]
							ix += g.x.s
						}
					}
				}
			}
		}
	}
}

func col2imScalar(g lowerGeom, dst []float32, ld, c0, ch, b0, b1, oy0, oy1 int, col []float32, cols int) {
	w, ow := g.x.n, g.x.o
	hw, bhw := g.y.n*w, (oy1-oy0)*ow
	for ci := range ch {
		for i := range g.kh {
			ylo, yhi := g.y.band(i, oy0, oy1)
			for j := range g.kw {
				row := col[((ci*g.kh+i)*g.kw+j)*cols:]
				xlo, xhi := g.x.valid(j)
				for b := b0; b < b1; b++ {
					plane := dst[(c0+ci)*ld+b*hw:]
					for oy := ylo; oy < yhi; oy++ {
						src := row[(b-b0)*bhw+(oy-oy0)*ow:]
						line := plane[(oy*g.y.s-g.y.p+i*g.y.d)*w:]
						ix := xlo*g.x.s - g.x.p + j*g.x.d
						for ox := xlo; ox < xhi; ox++ {
							line[ix] += src[ox]
							ix += g.x.s
						}
					}
				}
			}
		}
	}
}

func sameBits32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %#x, the scalar loop gives %#x", what, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
		}
	}
}

// TestStride2LoweringBits checks that im2col and col2im give the scalar loops' bits (NaN
// payloads and −0 included) on the stride-2 layers of ResNets at their real widths — the 7×7
// stem on 224 pixels, 3×3 pad 1 and 1×1 projections on 56…7 and odd planes — and with other
// vertical strides and dilations, whole and in bands of output rows, on a channel range of some
// images.
func TestStride2LoweringBits(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	for _, tc := range []struct{ k, p, h, w, sy, d int }{
		{7, 3, 224, 224, 2, 1}, {7, 3, 33, 37, 2, 1}, {3, 1, 56, 56, 2, 1}, {3, 1, 28, 28, 2, 1},
		{3, 1, 14, 14, 2, 1}, {3, 1, 15, 13, 2, 1}, {3, 1, 9, 10, 2, 1}, {1, 0, 56, 56, 2, 1},
		{1, 0, 28, 28, 2, 1}, {1, 0, 14, 14, 2, 1}, {1, 0, 7, 7, 2, 1}, {1, 0, 19, 21, 2, 1},
		{3, 0, 20, 23, 2, 1}, {3, 2, 20, 23, 1, 2}, {3, 1, 30, 41, 1, 1}, {5, 4, 31, 40, 3, 2},
	} {
		oh := (tc.h+2*tc.p-tc.d*(tc.k-1)-1)/tc.sy + 1
		ow := (tc.w+2*tc.p-tc.d*(tc.k-1)-1)/2 + 1
		g := lowerGeom{kh: tc.k, kw: tc.k, y: axis{tc.h, oh, tc.sy, tc.d, tc.p}, x: axis{tc.w, ow, 2, tc.d, tc.p}}
		nc, nb, c0, ch, b0, b1 := 3, 3, 1, 2, 1, 3
		if tc.h > 100 {
			nc, nb, c0, ch, b0, b1 = 1, 1, 0, 1, 0, 1
		}
		hw := tc.h * tc.w
		ld := nb * hw // the last plane ends the slice: no slack to read into
		src := specialVec(r, nc*ld)
		for _, band := range [][2]int{{0, oh}, {1, max(2, oh-1)}, {oh - 1, oh}} {
			oy0, oy1 := band[0], band[1]
			cols := (b1 - b0) * (oy1 - oy0) * ow
			n := ch * tc.k * tc.k * cols
			got, want := specialVec(r, n), make([]float32, n)
			g.im2col(got, cols, src, ld, c0, ch, b0, b1, oy0, oy1, nil)
			im2colScalar(g, want, cols, src, ld, c0, ch, b0, b1, oy0, oy1)
			sameBits32(t, "im2col", got, want)

			c := specialVec(r, n)
			gd := specialVec(r, nc*ld)
			wd := append([]float32(nil), gd...)
			g.col2im(gd, ld, c0, ch, b0, b1, oy0, oy1, c, cols)
			col2imScalar(g, wd, ld, c0, ch, b0, b1, oy0, oy1, c, cols)
			sameBits32(t, "col2im", gd, wd)
		}
	}
}

// TestWinograd2PadBits checks winograd2.pad, which splits a padded row into its even and odd
// columns, against the element-by-element loop it replaced, on every width up to 60 and the
// rows above and below the plane, with and without a normalisation.
func TestWinograd2PadBits(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 19))
	for w := 2; w <= 60; w++ {
		wg := &winograd2{h: 3, w: w, th: 2, tw: (w + 1) / 2}
		plane := specialVec(r, 3*w)
		for y := -1; y <= 3; y++ {
			for _, norm := range []bool{false, true} {
				got := specialVec(r, wg.rowLen()+3)
				want := append([]float32(nil), got...)
				tmp := make([]float32, w)
				wg.pad(got, plane, tmp, y, norm, 1.5, -0.25, true)
				padScalar(wg, want, plane, y, norm, 1.5, -0.25, true)
				sameBits32(t, "pad", got, want)
			}
		}
	}
}

// padScalar is winograd2.pad as it was before vec.Deinterleave.
func padScalar(wg *winograd2, row, plane []float32, y int, norm bool, s, t float32, relu bool) {
	k := wg.tw + 1
	ev, od := row[:k], row[k:2*k]
	if y < 0 || y >= wg.h {
		clear(row[:2*k])
		return
	}
	line := plane[y*wg.w : (y+1)*wg.w]
	if norm {
		tmp := make([]float32, wg.w)
		vec.ScaleShift(tmp, line, s, t, relu)
		line = tmp
	}
	ev[0], ev[wg.tw], od[wg.tw] = 0, 0, 0
	for i := 0; 2*i < len(line); i++ {
		od[i] = line[2*i]
		if 2*i+1 < len(line) {
			ev[i+1] = line[2*i+1]
		}
	}
}
