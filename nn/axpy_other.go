//go:build !amd64 || purego

package nn

// hasAVX2 and hasAVX512 are false: this build has no vector kernels (tests compare against the
// Go loops by clearing them on amd64).
var hasAVX2, hasAVX512 bool

// axpy adds a·x to y.
func axpy(y, x []float32, a float32) { axpyGo(y, x, a) }

// clip writes src clamped to [lo, hi] into dst; NaN stays NaN, as in PyTorch.
func clip(dst, src []float32, lo, hi float32) { clipGo(dst, src, lo, hi) }

// clipGrad adds g to d where lo < x < hi (and +0 elsewhere).
func clipGrad(d, g, x []float32, lo, hi float32) { clipGradGo(d, g, x, lo, hi) }

// sum writes p + q into dst, clamped to [lo, hi] when clamp.
func sum(dst, p, q []float32, clamp bool, lo, hi float32) { sumGo(dst, p, q, clamp, lo, hi) }

// mask zeroes g (to +0) where y is not strictly inside (lo, hi).
func mask(g, y []float32, lo, hi float32) { maskGo(g, y, lo, hi) }

// dwRow adds Σⱼ w[j]·src[x + j·dil] to out[x], the taps in order.
func dwRow(out, src, w []float32, dil int) { dwRowGo(out, src, w, dil) }

// dwRows sets out[x] to bias + Σᵢ Σⱼ w[i·kw+j]·(src[x + i·rs + j·dil] & mask[j·ms + x]) (kh rows
// of kw taps, in order; mask all ones or zero), plus the old out[x] afterwards when add is set.
func dwRows(out, src, w []float32, mask []uint32, kw, dil, kh, rs, ms int, add bool, bias float32) {
	dwRowsGo(out, src, w, mask, kw, dil, kh, rs, ms, add, bias)
}

// dwRows2 sets out[x] to bias + Σᵢ Σⱼ w[i·kw+j]·src[2x + i·rs + j·dil] (kh rows of kw taps, in
// order): dwRows at a horizontal stride of 2.
func dwRows2(out, src, w []float32, kw, dil, kh, rs int, bias float32) {
	dwRows2Go(out, src, w, kw, dil, kh, rs, bias)
}

// biasClip sets row to its values plus b, clamped to [lo, hi].
func biasClip(row []float32, b, lo, hi float32) { biasClipGo(row, b, lo, hi) }

// dwRows3At reports false: there is no kernel that may read past its source.
func dwRows3At(out, src []float32, off int, w []float32, mask []uint32, dil, kh, rs, ms int, add bool, bias float32) bool {
	return false
}

// dwRows2At reports false: there is no kernel that masks its reads.
func dwRows2At(out, src []float32, row int, w []float32, kw, dil, kh, rs, pl, sw int, bias float32) bool {
	return false
}

// maskedRows reports false: no kernel masks its reads here.
func maskedRows() bool { return false }

// planes3 reports false: there is no kernel that may read past its source.
func (d *dwGeom) planes3(dst, src, w, bias []float32, nch, nb, ldi, ldo int, add, act bool, lo, hi float32) bool {
	return false
}

// planes2 reports false: there is no kernel that masks its reads.
func (d *dwGeom) planes2(dst, src, w, bias []float32, nch, nb, ldi, ldo int, act bool, lo, hi float32) bool {
	return false
}
