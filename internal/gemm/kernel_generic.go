//go:build !amd64 || purego

package gemm

func kernel(k int, a, b, c []float32, ldc int, beta bool) { kernelGo(k, a, b, c, ldc, beta) }

func kernelPack(k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) {
	kernelPackGo(k, a, src, ldb, bp, c, ldc, beta, scale, shift, relu)
}

func kernelName() string { return "go" }

func kernelIndirect(k int, a, b []float32, off []int, j0 int, t []float32) {
	kernelIndirectGo(k, a, b, off, j0, t)
}
