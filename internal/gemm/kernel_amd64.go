//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// hasAVX2FMA is fixed at program start; it is never written afterwards.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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

// The slicing in the wrappers below checks everything the assembly touches.

func kernel(k int, a, b, c []float32, ldc int, beta bool) {
	if !hasAVX2FMA {
		kernelGo(k, a, b, c, ldc, beta)
		return
	}
	a = a[:k*mr]
	b = b[:k*nr]
	c = c[:(mr-1)*ldc+nr]
	kernelAVX(k, &a[0], &b[0], &c[0], ldc, beta)
}

func kernelPack(k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) {
	if !hasAVX2FMA {
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
	kernelPackAVX(k, &a[0], &src[0], ldb, &bp[0], &c[0], ldc, beta, sc, sh, relu, next, prefetchRows)
}

func kernelName() string {
	if hasAVX2FMA {
		return "avx2-fma"
	}
	return "go"
}

// kernelIndirectAVX is kernelIndirectGo for AVX2+FMA, with b already advanced to column j0.
//
//go:noescape
func kernelIndirectAVX(k int, a, b *float32, off *int, t *float32)

// kernelIndirect's caller (MulIndirect) has checked every offset against b.
func kernelIndirect(k int, a, b []float32, off []int, j0 int, t []float32) {
	if !hasAVX2FMA || k == 0 {
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

// gradTile runs gradTileAVX where the CPU has it, reporting whether it did.
func gradTile(tile, c, x []float32, ldc int, s, t []float32, relu bool) bool {
	if !hasAVX2FMA {
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

// kernelRows multiplies rows full row panels of A (the first at a, each ak floats after the
// previous) by the B panel b (k steps) into the tiles of c below one another (row stride ldc),
// storing or adding (beta) them, or with grad through the backward pass of a row operation as
// gradOut does, at x with scale s and shift t. It reports false, having done nothing, where the
// assembly does not apply (another CPU, or a grad without scale or shift), so that the caller
// runs its tile-by-tile path.
func kernelRows(k int, a []float32, ak int, b, c []float32, ldc int, beta bool, rows int, grad bool, x, s, t []float32, relu bool) bool {
	if !hasAVX2FMA || rows <= 0 || (grad && (s == nil || t == nil)) {
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
	kernelRowsAVX(k, &a[0], &b[0], &c[0], ldc, beta, rows, (ak-k*mr)*4, xp, sp, tp, mode)
	return true
}
