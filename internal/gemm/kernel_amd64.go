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
// dst and multiplies them exactly as kernelAVX would. It also prefetches the next micro-panel's
// rows (16 columns on), which may lie past B's end: prefetches never fault.
//
//go:noescape
func kernelPackAVX(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool)

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

func kernelPack(k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool) {
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
	kernelPackAVX(k, &a[0], &src[0], ldb, &bp[0], &c[0], ldc, beta, sc, sh, relu)
}

func kernelName() string {
	if hasAVX2FMA {
		return "avx2-fma"
	}
	return "go"
}
