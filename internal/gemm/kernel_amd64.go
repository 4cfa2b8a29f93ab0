//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// supportedKernels lists the kernels this CPU runs, fastest last. AVX-512 F is all the ZMM
// kernels use (FMA, embedded broadcast, mask registers); x/sys/cpu reports it only when the
// OS saves the ZMM state.
func supportedKernels() []kernelID {
	ks := []kernelID{kernGo}
	for _, k := range []kernelID{kernAVX2, kernAVX512} {
		if whyNot(k) == "" {
			ks = append(ks, k)
		}
	}
	return ks
}

// whyNot says why this CPU cannot run kernel k, or returns "" when it can.
func whyNot(k kernelID) string {
	avx2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	switch {
	case k == kernAVX2 && !avx2:
		return "this CPU lacks AVX2 or FMA"
	case k == kernAVX512 && !(avx2 && cpu.X86.HasAVX512F):
		return "this CPU (or its OS) lacks AVX-512 F"
	}
	return ""
}

// kernelAVX is kernelGo for AVX2+FMA: one fused multiply-add per product, summed in p order.
//
//go:noescape
func kernelAVX(k int, a, b, c *float32, ldc int, beta bool)

// kernelPackAVX is kernelPackGo for AVX2+FMA: it reads B's rows from src (row stride ldb),
// applies the row operation (scale and shift may be nil), stores them into the micro-panel at
// dst and multiplies them exactly as kernelAVX would. Step p prefetches src's row p+dist, or
// once fewer than dist rows remain, row p+dist-k of the panel at next; prefetches never fault.
//
//go:noescape
func kernelPackAVX(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)

// kernelPack512 is kernelPackAVX with the tile in ZMM registers: the same arithmetic.
//
//go:noescape
func kernelPack512(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)

// kernelPack4x512 is kernelPack512 for four row panels of A, ak floats apart, into a 24×16
// tile: the B panel is packed once while it feeds 24 FMAs per row.
//
//go:noescape
func kernelPack4x512(k int, a *float32, ak int, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)

// The slicing in the wrappers below checks everything the assembly touches.

func kernel(kern kernelID, k int, a, b, c []float32, ldc int, beta bool) {
	kern = kern.resolve()
	if kern == kernGo {
		kernelGo(k, a, b, c, ldc, beta)
		return
	}
	a = a[:k*mr]
	b = b[:k*nr]
	c = c[:(mr-1)*ldc+nr]
	if kern == kernAVX512 {
		kernelRows512(k, &a[0], &b[0], &c[0], ldc, beta, 1, 0, nil, nil, nil, 0)
		return
	}
	kernelAVX(k, &a[0], &b[0], &c[0], ldc, beta)
}

func kernelPack(kern kernelID, k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) {
	kern = kern.resolve()
	if kern == kernGo {
		kernelPackGo(k, a, src, ldb, bp, c, ldc, beta, scale, shift, relu)
		return
	}
	a = a[:k*mr]
	src = src[:(k-1)*ldb+nr]
	bp = bp[:k*nr]
	c = c[:(mr-1)*ldc+nr]
	var sc, sh *float32
	if scale != nil {
		sc = &scale[:k][0]
	}
	if shift != nil {
		sh = &shift[:k][0]
	}
	if kern == kernAVX512 {
		kernelPack512(k, &a[0], &src[0], ldb, &bp[0], &c[0], ldc, beta, sc, sh, relu, next, prefetchRows)
		return
	}
	kernelPackAVX(k, &a[0], &src[0], ldb, &bp[0], &c[0], ldc, beta, sc, sh, relu, next, prefetchRows)
}

// kernelPack4 is kernelPack for the four full row panels of A at a (each ak floats after the
// previous) into the 24 rows of c, where the kernel has a version for it (AVX-512); it reports
// false, having done nothing, elsewhere.
func kernelPack4(kern kernelID, k int, a []float32, ak int, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) bool {
	if kern.resolve() != kernAVX512 {
		return false
	}
	a = a[:3*ak+k*mr]
	src = src[:(k-1)*ldb+nr]
	bp = bp[:k*nr]
	c = c[:(4*mr-1)*ldc+nr]
	var sc, sh *float32
	if scale != nil {
		sc = &scale[:k][0]
	}
	if shift != nil {
		sh = &shift[:k][0]
	}
	kernelPack4x512(k, &a[0], ak, &src[0], ldb, &bp[0], &c[0], ldc, beta, sc, sh, relu, next, prefetchRows)
	return true
}

// kernelIndirectAVX is kernelIndirectGo for AVX2+FMA, with b already advanced to column j0.
//
//go:noescape
func kernelIndirectAVX(k int, a, b *float32, off *int, t *float32)

// kernelIndirect's caller (MulIndirect) has checked every offset against b. The AVX-512
// kernel runs the AVX2 code here (the same bits): there is no ZMM version yet.
func kernelIndirect(kern kernelID, k int, a, b []float32, off []int, j0 int, t []float32) {
	if kern.resolve() == kernGo || k == 0 {
		kernelIndirectGo(k, a, b, off, j0, t)
		return
	}
	a = a[:k*mr]
	t = t[:mr*nr]
	kernelIndirectAVX(k, &a[0], &b[j0], &off[0], &t[0])
}

// gradTileAVX is gradOut's loop for a full tile with scale and shift, in assembly.
//
//go:noescape
func gradTileAVX(tile, c, x *float32, ldc int, scale, shift *float32, relu bool)

// gradTile runs gradTileAVX where the kernel allows, reporting whether it did. The AVX-512
// kernel uses it too (the same bits); it only finishes the tiles of MulGrad's first row panel.
func gradTile(kern kernelID, tile, c, x []float32, ldc int, s, t []float32, relu bool) bool {
	if kern.resolve() == kernGo {
		return false
	}
	tile = tile[:mr*nr]
	c = c[:(mr-1)*ldc+nr]
	x = x[:(mr-1)*ldc+nr]
	s, t = s[:mr], t[:mr]
	gradTileAVX(&tile[0], &c[0], &x[0], ldc, &s[0], &t[0], relu)
	return true
}

// kernelRowsAVX runs the kernel over consecutive full row panels; see the assembly.
//
//go:noescape
func kernelRowsAVX(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)

// kernelRows512 is kernelRowsAVX with up to four row panels (a 24×16 tile) in ZMM registers at
// a time: the same arithmetic, with a quarter of the loads of B.
//
//go:noescape
func kernelRows512(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)

// kernelRows multiplies rows full row panels of A (the first at a, each ak floats after the
// previous) by the B panel b (k steps) into the tiles of c below one another (row stride ldc),
// storing or adding (beta) them, or with grad through the backward pass of a row operation as
// gradOut does, at x with scale s and shift t. It reports false, having done nothing, where the
// assembly does not apply (the Go kernel, or a grad without scale or shift), so that the
// caller runs its tile-by-tile path.
func kernelRows(kern kernelID, k int, a []float32, ak int, b, c []float32, ldc int, beta bool, rows int, grad bool, x, s, t []float32, relu bool) bool {
	kern = kern.resolve()
	if kern == kernGo || rows <= 0 || (grad && (s == nil || t == nil)) {
		return false
	}
	a = a[:(rows-1)*ak+k*mr]
	b = b[:k*nr]
	last := (rows*mr-1)*ldc + nr
	c = c[:last]
	mode := 0
	xp, sp, tp := (*float32)(nil), (*float32)(nil), (*float32)(nil)
	if grad {
		x, s, t = x[:last], s[:rows*mr], t[:rows*mr]
		xp, sp, tp = &x[0], &s[0], &t[0]
		mode = 2
		if relu {
			mode = 1
		}
	}
	if kern == kernAVX512 {
		kernelRows512(k, &a[0], &b[0], &c[0], ldc, beta, rows, (ak-k*mr)*4, xp, sp, tp, mode)
		return true
	}
	kernelRowsAVX(k, &a[0], &b[0], &c[0], ldc, beta, rows, (ak-k*mr)*4, xp, sp, tp, mode)
	return true
}
