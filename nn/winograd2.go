package nn

import (
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/internal/vec"
)

// winograd2 computes a 3×3 convolution with stride 1 and padding 1 by Winograd's F(2×2, 3×3)
// (Lavin & Gray 2016) for the planes F(4×4, 3×3) does not take (see winogradFits): each 2×2
// block of output pixels (a tile) is Aᵀ[Σ_ci U_ci ⊙ V_ci]A with V = Bᵀ d B the transform of
// the 4×4 input patch d and U = G g Gᵀ that of the kernel g,
//
//	Bᵀ = | 1  0 -1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |        | 1/2  1/2  1/2|         | 0  1 -1 -1 |
//	     | 0 -1  1  0 |        | 1/2 -1/2  1/2|
//	     | 0  1  0 -1 |        | 0    0    1  |
//
// so 16 products per tile and channel pair replace the direct convolution's 36. The input and
// output transforms only add and subtract, and U is computed in float64 and rounded once, so
// the rounding stays close to the direct convolution's; F(4×4)'s coefficients up to 8 and 1/24
// cost the input gradients of ResNet-50 a visible share of their signs (see winogradFits).
//
// Tiles are numbered image by image, row by row, and a chunk is any run of them: an odd plane
// (7×7) takes a last row and column of tiles whose missing input is zero padding and whose
// missing outputs are dropped. Each tile's arithmetic depends only on its own pixels, and each
// product column on its own tile, so results do not depend on how images or tiles are grouped.
type winograd2 struct {
	cin, cout int
	h, w      int              // plane
	th, tw    int              // tiles down and across, ⌈h/2⌉ and ⌈w/2⌉
	u         [16]*gemm.Packed // cout × cin each; element ξ = 4i + j of U
	tiles     int              // tiles per chunk: whole panels of gemm.PanelWidth (any number in tests)
}

// winograd2Fits reports whether winograd2 takes a stride-1 pad-1 3×3 convolution of h×w planes
// that F(4×4, 3×3) does not: any plane of at least 2×2 pixels.
func winograd2Fits(h, w int) bool { return h >= 2 && w >= 2 && !winogradFits(h, w) }

// newWinograd2 transforms and packs the kernel k (cout × cin × 3 × 3). budget is the number of
// floats that one chunk's transformed inputs and products may take.
func newWinograd2(cin, cout, h, w int, k []float32, budget int) *winograd2 {
	wg := &winograd2{cin: cin, cout: cout, h: h, w: w, th: (h + 1) / 2, tw: (w + 1) / 2}
	g := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	// One transform-domain element at a time, as newWinograd, but recomputing G·k for each
	// instead of keeping it (3·cout·cin float64, 6 MB for 512 channels, left as garbage at
	// load): U_ab = Σ_j (Σ_i G_ai·k_ij)·G_bj in float64, rounded once.
	u := make([]float32, cout*cin)
	for a := range 4 {
		for b := range 4 {
			for p := range cout * cin {
				kk := k[p*9 : p*9+9]
				var s float64
				for j := range 3 {
					var gk float64
					for i := range 3 {
						gk += g[a][i] * float64(kk[i*3+j])
					}
					s += gk * g[b][j]
				}
				u[p] = float32(s)
			}
			wg.u[4*a+b] = gemm.Pack(cout, cin, u, cin)
		}
	}
	// As many tiles as the budget allows, in whole panels, but at least 64 so that the products
	// are not too thin.
	pw := gemm.PanelWidth
	wg.tiles = max(budget/(16*(cin+cout))/pw*pw, 64)
	return wg
}

// strides returns the row stride of a chunk of tiles tiles' products and the strides between
// the transform-domain elements of its inputs and of its products, an odd number of cache lines
// so that the 16 rows a transform touches fall in different cache sets. The inputs are written
// in the product's panel layout (see input), whole panels.
func (wg *winograd2) strides(tiles int) (ld, vs, ms int) {
	pw := gemm.PanelWidth
	return tiles, oddLines(wg.cin * (tiles + pw - 1) / pw * pw), oddLines(wg.cout * tiles)
}

// rowLen is the length of a padded row split into its even and odd columns (see pad).
func (wg *winograd2) rowLen() int { return 2 * (wg.tw + 1) }

// scratch returns the sizes of the transformed inputs, the products and the padded rows.
func (wg *winograd2) scratch(cap int) (v, m, p int) {
	pw := gemm.PanelWidth
	_, vs, ms := wg.strides(min(wg.tiles, (cap*wg.th*wg.tw+pw-1)/pw*pw))
	return 16 * vs, 16 * ms, (2*wg.th+2+4)*wg.rowLen() + wg.w
}

// run convolves images 0…n−1 of src (cin channels, channel stride lds) into dst (cout channels,
// channel stride ldd), adding to dst when acc. With pre the input is normalised (and rectified)
// as it is read, the padding staying zero. A non-nil ep runs on each piece of output row as it
// is written.
func (wg *winograd2) run(x *execCtx, n int, src []float32, lds int, pre *affine, dst []float32, ldd int, acc bool, ep rowEpilogue) {
	hw, per := wg.h*wg.w, wg.th*wg.tw
	total := n * per
	for t0 := 0; t0 < total; t0 += wg.tiles {
		t1 := min(total, t0+wg.tiles)
		tiles := t1 - t0
		ld, vs, ms := wg.strides(tiles)
		v, m := x.col[:16*vs], x.tile[:16*ms]
		for c := range wg.cin {
			s, t, relu := pre.channel(c)
			// The chunk's tiles, image by image.
			for a := t0; a < t1; {
				b := a / per
				e := min(t1, (b+1)*per)
				wg.input(v, vs, c, x.pad, src[c*lds+b*hw:c*lds+(b+1)*hw], a-b*per, e-b*per, a-t0, pre != nil, s, t, relu)
				a = e
			}
		}
		for xi, u := range wg.u {
			u.MulPanels(m[xi*ms:], ld, v[xi*vs:], tiles, false, x.ws)
		}
		for co := range wg.cout {
			for a := t0; a < t1; {
				b := a / per
				e := min(t1, (b+1)*per)
				wg.output(dst[co*ldd+b*hw:co*ldd+(b+1)*hw], m[co*ld+a-t0:], ms, a-b*per, e-b*per, acc, ep, co)
				a = e
			}
		}
	}
}

// pad writes padded row Y (image row Y−1, zero outside the image) of plane into row, even
// columns X = 2v first (v = 0…tw), then odd ones, applying x·s + t (and ReLU) to the pixels
// when norm, through tmp (w floats). The padding stays zero.
func (wg *winograd2) pad(row, plane, tmp []float32, y int, norm bool, s, t float32, relu bool) {
	k := wg.tw + 1
	ev, od := row[:k], row[k:2*k]
	if y < 0 || y >= wg.h {
		clear(row[:2*k])
		return
	}
	line := plane[y*wg.w : (y+1)*wg.w]
	if norm {
		vec.ScaleShift(tmp[:wg.w], line, s, t, relu)
		line = tmp[:wg.w]
	}
	// Padded column X = x+1: even x go to the odd columns and odd x to the even ones. An even
	// plane's last pixel lands on ev[tw], so the zeros go first.
	ev[0], ev[wg.tw], od[wg.tw] = 0, 0, 0
	vec.Deinterleave(od, ev[1:], line)
}

// input transforms tiles p0…p1−1 of one image's channel c (plane) into v, the chunk's
// transformed inputs, tile p0 being the chunk's tile j0. v is laid out as the product's B
// panels so that it reads them without packing: element ξ of chunk tile j of channel c is at
// ξ·vs + (j/pw)·cin·pw + c·pw + j mod pw, pw = gemm.PanelWidth.
func (wg *winograd2) input(v []float32, vs, c int, buf, plane []float32, p0, p1, j0 int, norm bool, s, t float32, relu bool) {
	tw, rl, pw := wg.tw, wg.rowLen(), gemm.PanelWidth
	ty0, ty1 := p0/tw, (p1-1)/tw
	// Padded rows 2·ty0 … 2·ty1+3, then the column transforms of one tile row, then tmp.
	nr := 2*(ty1-ty0) + 4
	cols := buf[nr*rl : (nr+4)*rl]
	tmp := buf[(nr+4)*rl:]
	for r := range nr {
		wg.pad(buf[r*rl:(r+1)*rl], plane, tmp, 2*ty0+r-1, norm, s, t, relu)
	}
	for ty := ty0; ty <= ty1; ty++ {
		d := buf[2*(ty-ty0)*rl:]
		vec.Winograd2Cols(cols, d[:rl], d[rl:2*rl], d[2*rl:3*rl], d[3*rl:4*rl])
		tx0, tx1 := 0, tw
		if ty == ty0 {
			tx0 = p0 % tw
		}
		if ty == ty1 {
			tx1 = (p1-1)%tw + 1
		}
		for tx := tx0; tx < tx1; {
			j := j0 + ty*tw + tx - p0
			k := min(tx1-tx, pw-j%pw) // up to the end of j's panel
			vec.Winograd2Rows(v[j/pw*wg.cin*pw+c*pw+j%pw:], vs, cols, tw+1, tx, k)
			tx += k
		}
	}
}

// output inverse-transforms the products of tiles p0…p1−1 of one image (tile p0 at m[0], element
// ξ ms apart) into output channel co's plane dst, adding to it when acc, then runs ep (if any)
// on the pixels written; outputs past the plane's last row or column (odd planes) are dropped.
func (wg *winograd2) output(dst, m []float32, ms, p0, p1 int, acc bool, ep rowEpilogue, co int) {
	tw := wg.tw
	for p := p0; p < p1; {
		ty, tx0 := p/tw, p%tw
		tx1 := min(tw, tx0+p1-p)
		rows := min(2, wg.h-2*ty)
		vec.Winograd2Out(dst[2*ty*wg.w:], wg.w, rows, m[p-p0:], ms, tx0, tx1-tx0, acc)
		if ep != nil {
			wg.epilogue(dst, ep, co, ty, rows, tx0, tx1)
		}
		p += tx1 - tx0
	}
}

// epilogue runs ep on the output pixels of tiles tx0…tx1−1 of tile row ty (rows image rows):
// in one piece when they are whole rows, which are then adjacent.
func (wg *winograd2) epilogue(dst []float32, ep rowEpilogue, co, ty, rows, tx0, tx1 int) {
	w := wg.w
	x0, x1 := 2*tx0, min(w, 2*tx1)
	if x0 == 0 && x1 == w {
		ep.epilogueRow(dst[2*ty*w:(2*ty+rows)*w], co)
		return
	}
	for y := 2 * ty; y < 2*ty+rows; y++ {
		ep.epilogueRow(dst[y*w+x0:y*w+x1], co)
	}
}

// useWinograd2 turns the F(2×2, 3×3) path on (conv.prepareAll), in both directions on every
// plane that winograd2Fits. Its rounding is not larger than the direct path's (relative RMS error
// on random layers: 0.76× at 64 channels of 56×56, 1.24× at 128 of 28×28, 1.8× at 14 and 7
// pixels), but it falls differently, which switches other near-zero ReLUs and so flips some
// input-gradient signs. Measured on the ONNX fixtures' eight images per model (2026-12-03),
// signs equal to PyTorch's float64 gradient with the direct paths → F(2×2) input gradients and
// F(2×2) forwards up to 14×14, up to 28×28, on every plane: ResNet-50
// 99.778% → 99.776%, 99.816%, 99.833% (PyTorch's float32 99.793%); ResNet-18 99.964% →
// 99.970%, 99.984%, 99.989% (99.998%); DenseNet-121 99.962% → 99.974%, 99.961%, 99.965%
// (99.964%); GoogLeNet 99.922% → 99.935%, 99.911%, 99.943% (99.957%). On the fixtures' first
// two images alone the order had come out the other way for ResNet-50 (99.88% direct, 99.78% on
// every plane): which float32 rounding lands nearer float64 on a given image is a coin toss.
const useWinograd2 = true
