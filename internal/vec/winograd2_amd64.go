//go:build amd64 && !purego

package vec

// The F(2×2, 3×3) transforms in AVX2 (winograd2_amd64.s) only add and subtract, in the Go
// twins' order, so both give the same bits (tested); like the F(4×4) ones they run whenever
// the CPU has AVX2, whatever ODIN_KERNEL says.

//go:noescape
func winograd2ColsAVX(dst, r0, r1, r2, r3 *float32, n int)

//go:noescape
func winograd2RowsAVX(dst *float32, ds int, src *float32, k, n int)

//go:noescape
func winograd2OutAVX(dst *float32, w, rows int, src *float32, ms, n, px int, acc bool)

func winograd2Cols(dst, r0, r1, r2, r3 []float32) {
	if !hasWinograd {
		winograd2ColsGo(dst, r0, r1, r2, r3)
		return
	}
	winograd2ColsAVX(&dst[0], &r0[0], &r1[0], &r2[0], &r3[0], len(r0))
}

func winograd2Rows(dst []float32, ds int, src []float32, k, tx, n int) {
	if !hasWinograd {
		winograd2RowsGo(dst, ds, src, k, tx, n)
		return
	}
	winograd2RowsAVX(&dst[0], ds, &src[tx], k, n)
}

func winograd2Out(dst []float32, w, rows int, src []float32, ms, tx, n int, acc bool) {
	if !hasWinograd {
		winograd2OutGo(dst, w, rows, src, ms, tx, n, acc)
		return
	}
	winograd2OutAVX(&dst[2*tx], w, rows, &src[0], ms, n, min(2*n, w-2*tx), acc)
}
