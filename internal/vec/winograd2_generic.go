//go:build !amd64 || purego

package vec

func winograd2Cols(dst, r0, r1, r2, r3 []float32) { winograd2ColsGo(dst, r0, r1, r2, r3) }

func winograd2Rows(dst []float32, ds int, src []float32, k, tx, n int) {
	winograd2RowsGo(dst, ds, src, k, tx, n)
}

func winograd2Out(dst []float32, w, rows int, src []float32, ms, tx, n int, acc bool) {
	winograd2OutGo(dst, w, rows, src, ms, tx, n, acc)
}
