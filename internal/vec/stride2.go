package vec

import "fmt"

// Stride-2 data movement for lowered convolutions (im2col and its adjoint col2im) and for
// Winograd F(2×2, 3×3)'s padded rows, which it splits into even and odd columns. The moves copy
// bits (NaN payloads and −0 included) and the additions are Go's float32 +=, dst the first
// operand (whose payload x86 keeps when both are NaN), so the assembly (AVX2, stride2_amd64.s)
// and the Go twins below give the same bits.
//
// The row forms take a whole band of rows of a plane per call, as the lowering has them: its
// rows are short (7 to 112 elements), and a call per row cost as much as the row (AMD EPYC
// Zen 4). No function accepts a dst overlapping src.

// Gather2 writes every second element of src to dst: dst[i] = src[2i] for i < len(dst). It reads
// only src[0 … 2·len(dst)−2], so src may end just after its last gathered element, and panics
// if src is shorter than that.
func Gather2(dst, src []float32) {
	Gather2Rows(dst, len(dst), src, 0, len(dst), 1)
}

// Gather2Rows is Gather2 on rows rows of n elements: dst[r·ld + i] = src[r·ls + 2i] for r < rows
// and i < n. It writes nothing else, reads only the elements it gathers and the odd ones
// between, and panics unless the slices hold the last row and, for more than one row, ld ≥ n
// and ls ≥ 0.
func Gather2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	if n <= 0 || rows <= 0 {
		return
	}
	// rows, ld and ls at most the lengths keep the products below from overflowing.
	if rows > 1 && (ld < n || ls < 0 || rows > len(dst) || ld > len(dst) || ls > len(src)) ||
		len(dst) < (rows-1)*ld+n || len(src) < (rows-1)*ls+2*n-1 {
		short("Gather2Rows", n, rows, ld, ls, len(dst), len(src))
	}
	gather2Rows(dst, ld, src, ls, n, rows)
}

// AddScatter2 is Gather2's adjoint: dst[2i] += src[i] for i < len(src), each a float32 addition
// rounded as Go's += rounds it. It touches only dst[0 … 2·len(src)−2]; the odd elements between
// are read and written back unchanged, so no other goroutine may write them meanwhile. It panics
// if dst is shorter than 2·len(src)−1.
func AddScatter2(dst, src []float32) {
	AddScatter2Rows(dst, 0, src, len(src), len(src), 1)
}

// AddScatter2Rows is AddScatter2 on rows rows of n elements: dst[r·ld + 2i] += src[r·ls + i] for
// r < rows and i < n, row after row. It panics unless the slices hold the last row and, for
// more than one row, ld ≥ 2n−1 (rows of dst do not overlap) and ls ≥ 0.
func AddScatter2Rows(dst []float32, ld int, src []float32, ls, n, rows int) {
	if n <= 0 || rows <= 0 {
		return
	}
	if rows > 1 && (ld < 2*n-1 || ls < 0 || rows > len(dst) || ld > len(dst) || ls > len(src)) ||
		len(dst) < (rows-1)*ld+2*n-1 || len(src) < (rows-1)*ls+n {
		short("AddScatter2Rows", n, rows, ld, ls, len(dst), len(src))
	}
	addScatter2Rows(dst, ld, src, ls, n, rows)
}

// Deinterleave splits src into its even- and odd-indexed elements: even[i] = src[2i] and
// odd[i] = src[2i+1] for every such index inside src. It writes exactly ⌈len(src)/2⌉ elements of
// even and ⌊len(src)/2⌋ of odd, and panics if either is shorter.
func Deinterleave(even, odd, src []float32) {
	ne, no := (len(src)+1)/2, len(src)/2
	if len(even) < ne || len(odd) < no {
		panic(fmt.Sprintf("vec: Deinterleave: len(src)=%d needs %d even and %d odd, have %d and %d", len(src), ne, no, len(even), len(odd)))
	}
	deinterleave(even[:ne], odd[:no], src)
}

func short(fn string, n, rows, ld, ls, dst, src int) {
	panic(fmt.Sprintf("vec: %s: n=%d rows=%d ld=%d ls=%d do not fit len(dst)=%d len(src)=%d", fn, n, rows, ld, ls, dst, src))
}

func gather2RowsGo(dst []float32, ld int, src []float32, ls, n, rows int) {
	for r := range rows {
		d, s := dst[r*ld:r*ld+n], src[r*ls:]
		for i := range d {
			d[i] = s[2*i]
		}
	}
}

// addScatter2RowsGo is written as col2im's loop was, dst[…] += src[…]. Where both operands are
// NaN, x86 keeps the payload of the first, and Go does not say which that is (the addition
// commutes, and the compiler picks by context); compiled on its own this loop, like col2im's,
// loads dst and adds src, the order the assembly uses, so it stays out of line to keep the tests
// comparing like with like.
//
//go:noinline
func addScatter2RowsGo(dst []float32, ld int, src []float32, ls, n, rows int) {
	for r := range rows {
		d, s := dst[r*ld:], src[r*ls:r*ls+n]
		for i := range s {
			d[2*i] += s[i]
		}
	}
}

func deinterleaveGo(even, odd, src []float32) {
	for i := range odd {
		even[i] = src[2*i]
		odd[i] = src[2*i+1]
	}
	if len(even) > len(odd) {
		even[len(odd)] = src[2*len(odd)]
	}
}
