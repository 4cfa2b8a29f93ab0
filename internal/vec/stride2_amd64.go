//go:build amd64 && !purego

package vec

import "unsafe"

// The stride-2 moves in AVX2 (stride2_amd64.s). Each row finishes with a block that ends exactly
// at the last element it may touch, overlapping the previous block where the length is not a
// multiple of the block (moves only: rewriting an element with the same bits is harmless), or,
// for the additions, with scalar steps; none reads or writes past a row.

// gather2RowsAVX is Gather2Rows for n ≥ 5 and rows ≥ 1; it reads src[r·ls … r·ls+2n−2].
//
//go:noescape
func gather2RowsAVX(dst *float32, ld int, src *float32, ls, n, rows int)

// addScatter2RowsAVX is AddScatter2Rows for n ≥ 1 and rows ≥ 1; it touches dst[r·ld … r·ld+2n−2].
//
//go:noescape
func addScatter2RowsAVX(dst *float32, ld int, src *float32, ls, n, rows int)

// deinterleaveAVX splits the first 2n elements of src (n ≥ 4 pairs) into even[:n] and odd[:n].
//
//go:noescape
func deinterleaveAVX(even, odd, src *float32, n int)

func gather2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	if hasAVX2 && n >= 5 {
		gather2RowsAVX(unsafe.SliceData(dst), ld, unsafe.SliceData(src), ls, n, rows)
		return
	}
	gather2RowsGo(dst, ld, src, ls, n, rows)
}

func addScatter2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	if hasAVX2 {
		addScatter2RowsAVX(unsafe.SliceData(dst), ld, unsafe.SliceData(src), ls, n, rows)
		return
	}
	addScatter2RowsGo(dst, ld, src, ls, n, rows)
}

func deinterleave(even, odd, src []float32) {
	if hasAVX2 && len(odd) >= 4 {
		deinterleaveAVX(unsafe.SliceData(even), unsafe.SliceData(odd), unsafe.SliceData(src), len(odd))
		if len(even) > len(odd) {
			even[len(odd)] = src[2*len(odd)]
		}
		return
	}
	deinterleaveGo(even, odd, src)
}
