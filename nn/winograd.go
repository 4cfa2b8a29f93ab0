package nn

import (
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/internal/vec"
)

// winograd computes a 3×3 convolution with stride 1 and padding 1 by Winograd's minimal
// filtering F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016): each 4×4 block of output pixels (a tile) is Aᵀ[Σ_ci U_ci ⊙ V_ci]A, where
// V_ci = Bᵀ d B transforms the 6×6 input patch of channel ci and U = G g Gᵀ the kernel. For
// each of the 36 transform-domain elements ξ the sum over input channels is one matrix
// product U_ξ (cout × cin) · V_ξ (cin × tiles), which takes 36 multiplies per tile and channel
// pair where the direct convolution takes 144, at the price of the transforms and of rounding
// errors a few times larger (the transforms' coefficients reach 8 and 1/24).
//
// The input is split into phase planes (see vec.WinogradPhases4) so that the same element of
// consecutive tiles is consecutive in memory, and the transforms run four tiles per vector: four
// side by side, or two by two on planes 8 pixels wide. Every tile's arithmetic depends on its
// own pixels only, and every product column on its own tile, so results do not depend on which
// images share a chunk.
type winograd struct {
	cin, cout int
	h, w      int              // plane (see winogradFits)
	th, tw    int              // tiles down and across
	ps        int              // phase plane stride
	u         [36]*gemm.Packed // cout × cin each
	rows      int              // tile rows per chunk
}

// winogradFits reports whether a stride-1 pad-1 3×3 convolution of h×w planes can run here:
// whole tiles, in groups of four tiles side by side or two by two.
//
// Planes of whole tiles in other widths (ResNet-50's 56 and 28) could run widened with zero
// columns to the next multiple of 16. Tried (AMD EPYC Zen 4 with AVX-512, 2 cores, 2026-12-03):
// ResNet-50's forward pass ran about 25% faster, but
// Winograd's larger rounding, through ReLU and max-pool, took the input-gradient signs that
// equal PyTorch's float64 ones from 99.88% to 99.57% of elements (PyTorch's float32: 99.76%),
// so those widths do not run here. They run F(2×2, 3×3) instead (winograd2), whose transforms
// only add and subtract (see useWinograd2).
func winogradFits(h, w int) bool {
	return h > 0 && h%4 == 0 && w > 0 && (w%16 == 0 || (w == 8 && h%8 == 0))
}

// newWinograd transforms and packs the kernel k (cout × cin × 3 × 3). budget is the number of
// floats that one chunk's transformed inputs and products may take.
func newWinograd(cin, cout, h, w int, k []float32, budget int) *winograd {
	wg := &winograd{cin: cin, cout: cout, h: h, w: w, th: h / 4, tw: w / 4}
	wg.ps = (wg.th + 1) * wg.tw
	g := [6][3]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}}
	// One transform-domain element at a time, so that loading a wide network (WRN-28-10's 640
	// channels) leaves cout×cin floats of garbage per convolution instead of 36 times that,
	// which kept its peak memory far above its live weights. gk = G·k in float64, then
	// U_ab = Σ_j gk[a][j]·G[b][j], so every element rounds once, as before.
	gk := make([]float64, 3*cout*cin)
	u := make([]float32, cout*cin)
	for a := range 6 {
		for p := range cout * cin {
			kk := k[p*9 : p*9+9]
			for j := range 3 {
				var s float64
				for i := range 3 {
					s += g[a][i] * float64(kk[i*3+j])
				}
				gk[3*p+j] = s
			}
		}
		for b := range 6 {
			for p := range cout * cin {
				var s float64
				for j := range 3 {
					s += gk[3*p+j] * g[b][j]
				}
				u[p] = float32(s)
			}
			wg.u[6*a+b] = gemm.Pack(cout, cin, u, cin)
		}
	}
	// Chunks of whole tile rows, as many as the budget allows but a multiple of 16 tiles (the
	// product's panel width) and at least 64 tiles, so that the products are not too thin.
	per := 36 * (cin + cout) * wg.tw
	step := 1
	for step*wg.tw%16 != 0 && step < 16 {
		step++
	}
	wg.rows = max(budget/per/step, (64/wg.tw+step-1)/step, 1) * step
	return wg
}

// oddLines rounds n floats up to a whole, odd number of 64-byte cache lines: the stride between
// the transform-domain elements of a chunk, so that the rows one transform touches fall in
// different cache sets.
func oddLines(n int) int {
	n = (n + 15) &^ 15
	if n/16%2 == 0 {
		n += 16
	}
	return n
}

// strides returns the row stride of a chunk of tiles tiles' products and the strides between
// the transform-domain elements of its inputs and of its products. The latter are made an odd
// number of cache lines so that the 36 rows a transform touches fall in different cache sets.
// The inputs are written in the matrix product's panel layout (see vin), whole panels.
func (wg *winograd) strides(tiles int) (ld, vs, ms int) {
	ld = tiles
	pw := gemm.PanelWidth
	return ld, oddLines(wg.cin * (tiles + pw - 1) / pw * pw), oddLines(wg.cout * ld)
}

// vin transforms the tiles t0 … t0+n−1 of a chunk (n a multiple of 4) for input channel c from
// the phase planes at src (tile t0 first) into v, the chunk's transformed inputs, which are laid
// out as the product's B panels so that it reads them without packing: element ξ of tile t of
// channel c is at ξ·vs + (t/w)·cin·w + c·w + t mod w, w = gemm.PanelWidth.
func (wg *winograd) vin(v []float32, vs, c int, src []float32, t0, n int) {
	pw := gemm.PanelWidth
	for n > 0 {
		k := min(n, pw-t0%pw) // up to the end of t0's panel
		vec.WinogradIn4(v[t0/pw*wg.cin*pw+c*pw+t0%pw:], vs, src, wg.ps, wg.tw, k/4)
		src, t0, n = src[k:], t0+k, n-k
	}
}

// scratch returns the sizes of the transformed inputs, the products and the phase planes.
func (wg *winograd) scratch(cap int) (v, m, p int) {
	_, vs, ms := wg.strides(min(wg.rows, cap*wg.th) * wg.tw)
	return 36 * vs, 36 * ms, 24 * wg.ps
}

// run convolves images 0…n−1 of src (cin channels, channel stride lds) into dst (cout channels,
// channel stride ldd), adding to dst when acc. With pre the input is normalised (and rectified)
// as it is read, the padding staying zero. A non-nil ep runs on each chunk's output rows as
// they are written.
func (wg *winograd) run(x *execCtx, n int, src []float32, lds int, pre *affine, dst []float32, ldd int, acc bool, ep rowEpilogue) {
	hw := wg.h * wg.w
	total := n * wg.th
	// The padding rows of the phase planes; phases writes only the others.
	wg.zeroRow(x.pad, 0)
	wg.zeroRow(x.pad, wg.h+1)
	for r0 := 0; r0 < total; r0 += wg.rows {
		r1 := min(total, r0+wg.rows)
		tiles := (r1 - r0) * wg.tw
		ld, vs, ms := wg.strides(tiles)
		v, m := x.col[:36*vs], x.tile[:36*ms]
		for c := range wg.cin {
			s, t, relu := pre.channel(c)
			// The chunk's tile rows, image by image.
			for r := r0; r < r1; {
				b, ty0 := r/wg.th, r%wg.th
				ty1 := min(wg.th, ty0+r1-r)
				wg.phases(x.pad, src[c*lds+b*hw:c*lds+(b+1)*hw], ty0, ty1, s, t, relu)
				wg.vin(v, vs, c, x.pad[ty0*wg.tw:], (r-r0)*wg.tw, (ty1-ty0)*wg.tw)
				r += ty1 - ty0
			}
		}
		for xi, u := range wg.u {
			u.MulPanels(m[xi*ms:], ld, v[xi*vs:], tiles, false, x.ws)
		}
		for co := range wg.cout {
			for r := r0; r < r1; {
				b, ty0 := r/wg.th, r%wg.th
				ty1 := min(wg.th, ty0+r1-r)
				d, mm := dst[co*ldd+b*hw+4*ty0*wg.w:], m[co*ld+(r-r0)*wg.tw:]
				if wg.tw%4 == 0 {
					vec.WinogradOut4(d, wg.w, mm, ms, wg.tw/4, ty1-ty0, 4*wg.w, 8, acc)
				} else {
					vec.WinogradOut4(d, wg.w, mm, ms, 1, (ty1-ty0)/2, 8*wg.w, 4*wg.w, acc)
				}
				if ep != nil {
					ep.epilogueRow(d[:4*(ty1-ty0)*wg.w], co)
				}
				r += ty1 - ty0
			}
		}
	}
}

// phases writes the padded rows that tile rows ty0…ty1−1 read, 4·ty0 … 4·ty1+1, of one plane
// into the phase planes p, applying x·s + t (and ReLU) to the pixels but not to the padding.
func (wg *winograd) phases(p, plane []float32, ty0, ty1 int, s, t float32, relu bool) {
	// Rows y+1 hold image rows y; run has zeroed the padding rows 0 and h+1.
	y0, y1 := max(4*ty0-1, 0), min(4*ty1+1, wg.h)
	vec.WinogradPhases4(p, wg.ps, plane[y0*wg.w:], wg.w, y0, y1-y0, s, t, relu)
}

// zeroRow clears padded row yp of the phase planes.
func (wg *winograd) zeroRow(p []float32, yp int) {
	for j := range 6 {
		o := (yp%4*6+j)*wg.ps + yp/4*wg.tw
		clear(p[o : o+wg.tw])
	}
}
