package nn

import "github.com/odin-ood/odin/internal/gemm"

// adjointMin is the cin·cout from which a Winograd convolution takes its input gradient through
// the adjoint of its forward transforms, with the forward's transformed kernels, instead of a
// second Winograd convolution with the flipped kernel. The second set of transformed kernels
// is four times the layer's weights: for Wide ResNet-28-10's 640-channel stage 472 MB, most of
// its peak memory. The adjoint costs a transposition of the kernels per chunk and transforms
// written in Go, not vector assembly, so it is kept to the widest layers: 320·640 takes
// WRN-28-10's last stage. Measured there (batch 8 and 16, 2 workers, AMD EPYC Zen 4 with AVX-512,
// 2 cores, 2026-12-03), taking the 320-channel stage too (256·256) saved another 100 MB but made
// the ODIN step 8–15% slower.
const adjointMin = 320 * 640

// adjoint writes (or adds, when acc) into dx the input gradient of run without normalisation,
// for the output gradient dy: the exact adjoint of the forward's arithmetic. Each 4×4 tile of
// the output gradient gy becomes Z = A·gy·Aᵀ (6×6), each transform-domain element ξ of the
// input's is the product U_ξᵀ·Z_ξ summed over output channels, and each tile's 6×6 input
// gradient B·V·Bᵀ is added back onto the pixels of the patch the forward read (patches overlap
// by two pixels). U_ξᵀ is packed from U_ξ for each chunk, into the context's scratch.
//
// Chunks are whole images, so every image's gradient is complete within its chunk and depends
// on its own tiles only: results do not depend on which images share a micro-batch.
func (wg *winograd) adjoint(x *execCtx, n int, dy []float32, ldy int, dx []float32, ldx int, acc bool) {
	per := wg.adjointImages(x.cap)
	for b0 := 0; b0 < n; b0 += per {
		b1 := min(n, b0+per)
		tiles := (b1 - b0) * wg.th * wg.tw
		zs, ld, ms := wg.adjointStrides(tiles)
		z, m := x.col[:36*zs], x.tile[:36*ms]
		for co := range wg.cout {
			for b := b0; b < b1; b++ {
				wg.outAdjoint(z, zs, co, (b-b0)*wg.th*wg.tw, dy[co*ldy+b*wg.h*wg.w:])
			}
		}
		for xi, u := range wg.u {
			x.wgT = u.TransposeInto(x.wgT)
			x.wgT.MulPanels(m[xi*ms:], ld, z[xi*zs:], tiles, false, x.ws)
		}
		for ci := range wg.cin {
			for b := b0; b < b1; b++ {
				wg.inAdjoint(x.pad, m[ci*ld+(b-b0)*wg.th*wg.tw:], ms)
				wg.interior(dx[ci*ldx+b*wg.h*wg.w:], x.pad, acc)
			}
		}
	}
}

// adjointImages is the number of images per chunk: as many as winogradBudget allows, and
// enough for 64 tiles, so that the products are not too thin.
func (wg *winograd) adjointImages(cap int) int {
	t := wg.th * wg.tw
	return min(cap, max(winogradBudget/(36*(wg.cin+wg.cout)*t), (64+t-1)/t, 1))
}

// adjointStrides returns, for a chunk of tiles tiles, the stride between transform-domain
// elements of Z (in the product's panel layout, cout rows), and the row stride and element
// stride of the input-side products (cin rows), odd numbers of cache lines as in strides.
func (wg *winograd) adjointStrides(tiles int) (zs, ld, ms int) {
	pw := gemm.PanelWidth
	return oddLines(wg.cout * (tiles + pw - 1) / pw * pw), tiles, oddLines(wg.cin * tiles)
}

// adjointScratch returns the sizes adjoint needs in the context's col, tile and pad buffers.
func (wg *winograd) adjointScratch(cap int) (col, tile, pad int) {
	zs, _, ms := wg.adjointStrides(wg.adjointImages(cap) * wg.th * wg.tw)
	return 36 * zs, 36 * ms, (wg.h + 2) * (wg.w + 2)
}

// outAdjoint writes Z = A·gy·Aᵀ of every tile of one image plane of output channel co (plane,
// row-major h×w) into z, the image's first tile being tile t0 of the chunk.
func (wg *winograd) outAdjoint(z []float32, zs, co, t0 int, plane []float32) {
	pw := gemm.PanelWidth
	for ty := range wg.th {
		for tx := range wg.tw {
			var tmp [6][4]float32
			for c := range 4 {
				var g [4]float32
				for r := range 4 {
					g[r] = plane[(4*ty+r)*wg.w+4*tx+c]
				}
				o := outAdj6(&g)
				for i := range 6 {
					tmp[i][c] = o[i]
				}
			}
			t := t0 + ty*wg.tw + tx
			at := t/pw*wg.cout*pw + co*pw + t%pw
			for i := range 6 {
				o := outAdj6(&tmp[i])
				for j := range 6 {
					z[(6*i+j)*zs+at] = o[j]
				}
			}
		}
	}
}

// inAdjoint adds B·V·Bᵀ of every tile of one image (V's element ξ of tile t at v[ξ·ms+t]) onto
// the patch of the zero-padded plane p ((h+2)×(w+2)) that the forward transform read.
func (wg *winograd) inAdjoint(p, v []float32, ms int) {
	wp := wg.w + 2
	clear(p[:(wg.h+2)*wp])
	for ty := range wg.th {
		for tx := range wg.tw {
			t := ty*wg.tw + tx
			var tmp [6][6]float32
			for j := range 6 {
				var col [6]float32
				for i := range 6 {
					col[i] = v[(6*i+j)*ms+t]
				}
				o := inAdj6(&col)
				for i := range 6 {
					tmp[i][j] = o[i]
				}
			}
			for i := range 6 {
				o := inAdj6(&tmp[i])
				row := p[(4*ty+i)*wp+4*tx : (4*ty+i)*wp+4*tx+6]
				for j := range 6 {
					row[j] += o[j]
				}
			}
		}
	}
}

// interior writes (or adds) the inside of the padded plane p to the h×w plane d.
func (wg *winograd) interior(d, p []float32, acc bool) {
	wp := wg.w + 2
	for y := range wg.h {
		src := p[(y+1)*wp+1 : (y+1)*wp+1+wg.w]
		dst := d[y*wg.w : (y+1)*wg.w]
		if acc {
			for i, v := range src {
				dst[i] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// outAdj6 is A·g, the adjoint of the 1-D output transform (see vec.WinogradOut4's Aᵀ).
func outAdj6(g *[4]float32) (o [6]float32) {
	s, d := g[0]+g[2], g[1]+g[3]
	s4, d2 := g[0]+4*g[2], 2*g[1]+8*g[3]
	o[0] = g[0]
	o[1] = s + d
	o[2] = s - d
	o[3] = s4 + d2
	o[4] = s4 - d2
	o[5] = g[3]
	return o
}

// inAdj6 is B·v, the adjoint of the 1-D input transform (see vec.WinogradIn4's Bᵀ).
func inAdj6(v *[6]float32) (o [6]float32) {
	s12, d12 := v[1]+v[2], v[1]-v[2]
	s34, d34 := v[3]+v[4], v[3]-v[4]
	o[0] = 4 * v[0]
	o[1] = 4*(v[5]-d12) - 2*d34
	o[2] = -5*v[0] - 4*s12 - s34
	o[3] = d12 + 2*d34 - 5*v[5]
	o[4] = v[0] + s12 + s34
	o[5] = v[5]
	return o
}
