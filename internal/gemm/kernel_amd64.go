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
