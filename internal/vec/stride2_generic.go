//go:build !amd64 || purego

package vec

func gather2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	gather2RowsGo(dst, ld, src, ls, n, rows)
}

func addScatter2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	addScatter2RowsGo(dst, ld, src, ls, n, rows)
}

func deinterleave(even, odd, src []float32) { deinterleaveGo(even, odd, src) }
