//go:build amd64 && !purego

package nn

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/odin-ood/odin/internal/gemm"
)

var hasAVX2 = cpu.X86.HasAVX2

// hasAVX512 enables the AVX-512 depthwise kernel where the matrix products use AVX-512 too, so
// that ODIN_KERNEL=avx2 (see gemm.KernelEnv) also keeps it out (its results are the same).
var hasAVX512 = cpu.X86.HasAVX512F && gemm.Kernel() == "avx512"

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
func sumAVX(dst, p, q *float32, n int)

//go:noescape
func sumClipAVX(dst, p, q *float32, n int, lo, hi float32)

// sum writes p + q into dst, clamped to [lo, hi] when clamp: the sum and then clip, with their
// roundings.
func sum(dst, p, q []float32, clamp bool, lo, hi float32) {
	p, q = p[:len(dst)], q[:len(dst)]
	n := 0
	if hasAVX2 {
		n = len(dst) &^ 7
	}
	if n > 0 {
		if clamp {
			sumClipAVX(&dst[0], &p[0], &q[0], n, lo, hi)
		} else {
			sumAVX(&dst[0], &p[0], &q[0], n)
		}
	}
	sumGo(dst[n:], p[n:], q[n:], clamp, lo, hi)
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
	if kw == 3 && hasAVX512 {
		dwRows3x512(&out[0], &src[0], &w[0], &mask[0], len(out), kw, dil, kh, rs, ms, a, bias)
		return
	}
	dwRowsAVX(&out[0], &src[0], &w[0], &mask[0], len(out), kw, dil, kh, rs, ms, a, bias)
}

//go:noescape
func dwRows3x512(out, src, w *float32, mask *uint32, n, kw, dil, kh, rs, ms, add int, bias float32)

//go:noescape
func dwRows2AVX(out, src, w *float32, n, kw, dil, kh, rs int, bias float32)

// dwRows2 sets out[x] to bias + Σᵢ Σⱼ w[i·kw+j]·src[2x + i·rs + j·dil] (kh rows of kw taps, in
// order): dwRows at a horizontal stride of 2, computing only the columns kept.
func dwRows2(out, src, w []float32, kw, dil, kh, rs int, bias float32) {
	if len(out) == 0 {
		return
	}
	_ = src[2*(len(out)-1)+(kh-1)*rs+(kw-1)*dil]
	_ = w[kh*kw-1]
	if !hasAVX2 {
		dwRows2Go(out, src, w, kw, dil, kh, rs, bias)
		return
	}
	dwRows2AVX(&out[0], &src[0], &w[0], len(out), kw, dil, kh, rs, bias)
}

//go:noescape
func biasClipAVX(dst *float32, n int, b, lo, hi float32)

// biasClip sets row to its values plus b, clamped to [lo, hi]: addBias and then clip in one
// pass, with their roundings.
func biasClip(row []float32, b, lo, hi float32) {
	n := 0
	if hasAVX2 {
		n = len(row) &^ 7
	}
	if n > 0 {
		biasClipAVX(&row[0], n, b, lo, hi)
	}
	biasClipGo(row[n:], b, lo, hi)
}

// dwRows3At is dwRows for kw = 3 on the source starting off values from src[0], off possibly
// negative: the taps the mask zeroes are not read, so they may fall outside src; the others
// must not. It reports false, doing nothing, where the kernel is not available (then the caller
// keeps the taps inside itself). It is dwPlanes3k512 on one run of one plane.
func dwRows3At(out, src []float32, off int, w []float32, mask []uint32, dil, kh, rs, ms int, add bool, bias float32) bool {
	if !hasAVX512 {
		return false
	}
	if len(out) == 0 {
		return true
	}
	_ = w[3*kh-1]
	_ = mask[len(out)-1+2*ms]
	a := 0
	if add {
		a = 1
	}
	// The run's source offset may point outside src (only at masked taps, which are not read).
	run := dwRun{src: 4 * off, kh: kh, n: len(out)}
	dwPlanes3k512(&out[0], unsafe.SliceData(src), &w[0], &bias, &mask[0], &run, 1, 1, 1, 0, 0, 0, 0,
		4*dil, 4*rs, 4*ms, 0, 0, 0, a, 0, 0, 0)
	runtime.KeepAlive(src)
	return true
}

// maskedRows reports whether the kernels that mask their reads (dwRows2At, dwRows3At) run.
func maskedRows() bool { return hasAVX512 }

// dwRows2At computes a whole output row of a stride-2 depthwise correlation: out[x] = bias +
// Σᵢ Σⱼ w[i·kw+j]·S_i[2x + j·dil − pl], where S_i is the sw values of src from row + i·rs on and
// a column outside them reads +0 (pixel's sums, the taps in order). It reads nothing outside
// those rows. It reports false, doing nothing, where the kernel is not available.
func dwRows2At(out, src []float32, row int, w []float32, kw, dil, kh, rs, pl, sw int, bias float32) bool {
	if !hasAVX512 {
		return false
	}
	if len(out) == 0 {
		return true
	}
	_ = src[row+(kh-1)*rs+sw-1]
	_ = w[kh*kw-1]
	// dwPlanes2k512 on one row of one plane.
	r := dwRow2{src: 4 * row, kh: kh}
	dwPlanes2k512(&out[0], &src[0], &w[0], &bias, &r, 1, 1, 1, 0, 0, 0, 0, len(out), kw, kh, dil, rs, pl, sw, 0, 0, 0, 0, 0)
	return true
}

// dwInnerMax is the largest source plane (in values) whose runs dwPlanes3k512 computes block by
// block for all of a channel's planes in turn, sharing each block's lane masks and weights: on
// larger planes the eight planes' rows per block cost more in cache misses than that saves
// (measured on Zen 4, batch 8: 7×7 and 14×14 about 1.5× faster, 28×28 a little, 56×56 and
// 112×112 5–30% slower).
const dwInnerMax = 32 * 32

//go:noescape
func dwPlanes3k512(dst, src, w, bias *float32, mask *uint32, runs *dwRun, nrun, nch, nb, ldi, ldo, hw, ohw, dil, rs, ms, inner, bstep, wstep, add, act int, lo, hi float32)

// planes3 computes nb planes of each of nch channels, each as flatPlane would: channel c's
// planes at dst[c·ldo + b·ohw:] from src[c·ldi + b·hw:], its kernel at w[c·kh·kw:], bias[c] (or
// bias[0] for every channel when bias has one value), then clamped to [lo, hi] as clip clamps
// when act. It reports false, doing nothing, where the kernel is not available or d has no runs.
func (d *dwGeom) planes3(dst, src, w, bias []float32, nch, nb, ldi, ldo int, add, act bool, lo, hi float32) bool {
	if !hasAVX512 || d.runs == nil || ldi < 0 || ldo < 0 {
		return false
	}
	if nch <= 0 || nb <= 0 {
		return true
	}
	hw, ohw, k := d.sh*d.sw, d.dh*d.dw, d.kh*d.kw
	// The slicing keeps the kernel inside: every plane it reads or writes lies in these, and the
	// runs (planeRuns) read only taps inside their plane, or masked ones, which are not read.
	src, dst, w = src[:(nch-1)*ldi+nb*hw], dst[:(nch-1)*ldo+nb*ohw], w[:nch*k]
	mask := d.mask[:3*ohw]
	bstep := 4
	if len(bias) == 1 {
		bstep = 0
	} else {
		bias = bias[:nch]
	}
	a, c, in := 0, 0, 0
	if add {
		a = 1
	}
	if act {
		c = 1
	}
	if d.kh <= 3 && hw <= dwInnerMax {
		in = 1
	}
	dwPlanes3k512(&dst[0], &src[0], &w[0], &bias[0], &mask[0], &d.runs[0], len(d.runs), nch, nb,
		4*ldi, 4*ldo, 4*hw, 4*ohw, 4*d.dx, 4*d.dy*d.dw, 4*ohw, in, bstep, 4*k, a, c, lo, hi)
	return true
}

//go:noescape
func dwPlanes2k512(dst, src, w, bias *float32, rows *dwRow2, nrow, nch, nb, ldi, ldo, hw, ohw, n, kw, kh, dil, rs, pl, sw, bstep, wstep, act int, lo, hi float32)

// planes2 is planes3 for stride2Rows's planes (without adding): each plane as stride2Rows
// computes it, then clamped as clip clamps when act. It reports false, doing nothing, where the
// kernel is not available or d has no rows2.
func (d *dwGeom) planes2(dst, src, w, bias []float32, nch, nb, ldi, ldo int, act bool, lo, hi float32) bool {
	if !hasAVX512 || d.rows2 == nil || ldi < 0 || ldo < 0 {
		return false
	}
	if nch <= 0 || nb <= 0 {
		return true
	}
	hw, ohw, k := d.sh*d.sw, d.dh*d.dw, d.kh*d.kw
	// As in planes3; each row reads only its kernel rows inside the plane (planeRows2).
	src, dst, w = src[:(nch-1)*ldi+nb*hw], dst[:(nch-1)*ldo+nb*ohw], w[:nch*k]
	bstep := 4
	if len(bias) == 1 {
		bstep = 0
	} else {
		bias = bias[:nch]
	}
	c := 0
	if act {
		c = 1
	}
	dwPlanes2k512(&dst[0], &src[0], &w[0], &bias[0], &d.rows2[0], len(d.rows2), nch, nb, 4*ldi, 4*ldo, 4*hw, 4*ohw,
		d.dw, d.kw, d.kh, d.dx, d.dy*d.sw, d.pl, d.sw, bstep, 4*k, c, lo, hi)
	return true
}
