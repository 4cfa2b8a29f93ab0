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

func gradTile(tile, c, x []float32, ldc int, s, t []float32, relu bool) bool { return false }

func kernelRows(k int, a []float32, ak int, b, c []float32, ldc int, beta bool, rows int, grad bool, x, s, t []float32, relu bool) bool {
	return false
}
