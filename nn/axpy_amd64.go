//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// axpyAVX adds a·x to y for n values, n a positive multiple of 8, eight lanes at a time with a
// multiply and then an add, each rounded (the Go loop's roundings, so results are identical).
//
//go:noescape
func axpyAVX(y, x *float32, n int, a float32)

// axpy adds a·x to y.
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	n := 0
	if hasAVX2 {
		n = len(y) &^ 7
	}
	if n > 0 {
		axpyAVX(&y[0], &x[0], n, a)
	}
	axpyGo(y[n:], x[n:], a)
}

//go:noescape
func clipAVX(dst, src *float32, n int, lo, hi float32)

//go:noescape
func clipGradAVX(d, grad, x *float32, n int, lo, hi float32)

// clip writes src clamped to [lo, hi] into dst; NaN stays NaN, as in PyTorch.
func clip(dst, src []float32, lo, hi float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2 {
		n = len(src) &^ 7
	}
	if n > 0 {
		clipAVX(&dst[0], &src[0], n, lo, hi)
	}
	clipGo(dst[n:], src[n:], lo, hi)
}

// clipGrad adds g to d where lo < x < hi (and +0 elsewhere, as the vector code does).
func clipGrad(d, g, x []float32, lo, hi float32) {
	g, x = g[:len(d)], x[:len(d)]
	n := 0
	if hasAVX2 {
		n = len(d) &^ 7
	}
	if n > 0 {
		clipGradAVX(&d[0], &g[0], &x[0], n, lo, hi)
	}
	clipGradGo(d[n:], g[n:], x[n:], lo, hi)
}

//go:noescape
func maskAVX(grad, y *float32, n int, lo, hi float32)

// mask zeroes g (to +0) where y is not strictly inside (lo, hi).
func mask(g, y []float32, lo, hi float32) {
	y = y[:len(g)]
	n := 0
	if hasAVX2 {
		n = len(g) &^ 7
	}
	if n > 0 {
		maskAVX(&g[0], &y[0], n, lo, hi)
	}
	maskGo(g[n:], y[n:], lo, hi)
}

//go:noescape
func dwRowAVX(out, src, w *float32, n, k, dil int)

// dwRow adds Σⱼ w[j]·src[x + j·dil] to out[x], the taps in order; src holds at least
// len(out) + (len(w)−1)·dil values.
func dwRow(out, src, w []float32, dil int) {
	_ = src[len(out)+(len(w)-1)*dil-1]
	n := 0
	if hasAVX2 {
		n = len(out) &^ 7
	}
	if n > 0 {
		dwRowAVX(&out[0], &src[0], &w[0], n, len(w), dil)
	}
	dwRowGo(out[n:], src[n:], w, dil)
}

//go:noescape
func dwRowsAVX(out, src, w *float32, mask *uint32, n, kw, dil, kh, rs, ms, add int, bias float32)

// dwRows sets out[x] to bias + Σᵢ Σⱼ w[i·kw+j]·(src[x + i·rs + j·dil] & mask[j·ms + x]) (kh rows
// of kw taps, in order; mask all ones or zero), plus the old out[x] afterwards when add is set.
func dwRows(out, src, w []float32, mask []uint32, kw, dil, kh, rs, ms int, add bool, bias float32) {
	if len(out) == 0 {
		return
	}
	_ = src[len(out)-1+(kh-1)*rs+(kw-1)*dil]
	_ = w[kh*kw-1]
	_ = mask[len(out)-1+(kw-1)*ms]
	if !hasAVX2 {
		dwRowsGo(out, src, w, mask, kw, dil, kh, rs, ms, add, bias)
		return
	}
	a := 0
	if add {
		a = 1
	}
	dwRowsAVX(&out[0], &src[0], &w[0], &mask[0], len(out), kw, dil, kh, rs, ms, a, bias)
}
