//go:build !amd64 || purego

package gemm

func supportedKernels() []kernelID { return []kernelID{kernGo} }

// whyNot says why this build cannot run kernel k, or returns "" when it can.
func whyNot(k kernelID) string {
	if k == kernGo {
		return ""
	}
	return "the assembly kernels are amd64 only and left out by the purego tag"
}

func kernel(kern kernelID, k int, a, b, c []float32, ldc int, beta bool) {
	kernelGo(k, a, b, c, ldc, beta)
}

func kernelPack(kern kernelID, k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) {
	kernelPackGo(k, a, src, ldb, bp, c, ldc, beta, scale, shift, relu)
}

func kernelIndirect(kern kernelID, k int, a, b []float32, off []int, j0 int, t []float32) {
	kernelIndirectGo(k, a, b, off, j0, t)
}

func gradTile(kern kernelID, tile, c, x []float32, ldc int, s, t []float32, relu bool) bool {
	return false
}

func kernelRows(kern kernelID, k int, a []float32, ak int, b, c []float32, ldc int, beta bool, rows int, grad bool, x, s, t []float32, relu bool) bool {
	return false
}

func kernelPack4(kern kernelID, k int, a []float32, ak int, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool, next uintptr) bool {
	return false
}

func kernelThin(kern kernelID, k int, a []float32, ak int, src []float32, ldb int, c []float32, ldc int, beta bool, rows, panels int, scale, shift []float32, relu bool) bool {
	return false
}

func hasThin(kern kernelID) bool { return false }
