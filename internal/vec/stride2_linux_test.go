package vec

import (
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/guardpage"
)

// pageEnd returns n float32s ending exactly where an inaccessible page begins, so that any
// access past them faults.
func pageEnd(t *testing.T, n int) []float32 { return guardpage.Floats(t, n) }

// TestStride2PageEnd runs the stride-2 moves on slices that end at an inaccessible page: a read
// or write past the last element a function may touch crashes the test.
func TestStride2PageEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 6))
	for n := 1; n <= 70; n++ {
		src := pageEnd(t, 2*n-1)
		copy(src, stride2Vals(r, 2*n-1))
		want, got := make([]float32, n), make([]float32, n)
		gather2Go(want, src)
		Gather2(got, src)
		sameBits(t, "Gather2", got, want)

		dst := pageEnd(t, 2*n-1)
		copy(dst, src)
		add := stride2Vals(r, n)
		wd := append([]float32(nil), src...)
		addScatter2Go(wd, add)
		AddScatter2(dst, add)
		sameBits(t, "AddScatter2", dst, wd)

		// Two rows, the second ending at the page.
		src = pageEnd(t, 3*n-1+n)
		copy(src, stride2Vals(r, len(src)))
		want, got = make([]float32, 2*n+1), make([]float32, 2*n+1)
		gather2RowsGo(want, n+1, src, 2*n, n, 2)
		Gather2Rows(got, n+1, src, 2*n, n, 2)
		sameBits(t, "Gather2Rows", got, want)
		dst = pageEnd(t, 2*n+2*n-1)
		copy(dst, src)
		wd = append([]float32(nil), dst...)
		add = stride2Vals(r, 2*n)
		addScatter2RowsGo(wd, 2*n, add, n, n, 2)
		AddScatter2Rows(dst, 2*n, add, n, n, 2)
		sameBits(t, "AddScatter2Rows", dst, wd)

		ev, od := pageEnd(t, (n+1)/2), pageEnd(t, n/2)
		we, wo := make([]float32, (n+1)/2), make([]float32, n/2)
		src = pageEnd(t, n)
		copy(src, stride2Vals(r, n))
		deinterleaveGo(we, wo, src)
		Deinterleave(ev, od, src)
		sameBits(t, "Deinterleave even", ev, we)
		sameBits(t, "Deinterleave odd", od, wo)
	}
}
