package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// stride2Vals returns n random floats among which special bit patterns are frequent: −0, +0,
// infinities, quiet and signalling NaNs with payloads, subnormals.
func stride2Vals(r *rand.Rand, n int) []float32 {
	special := []uint32{0x80000000, 0, 0x7f800000, 0xff800000, 0x7fc00001, 0xffc12345,
		0x7f800001, 0xff9abcde, 0x00000001, 0x807fffff}
	s := make([]float32, n)
	for i := range s {
		if r.IntN(4) == 0 {
			s[i] = math.Float32frombits(special[r.IntN(len(special))])
		} else {
			s[i] = float32(r.NormFloat64())
		}
	}
	return s
}

// atEnd copies v to the end of a fresh slice of exactly len(v) capacity, starting off elements
// into a larger allocation: an access past the end of v lands in memory the test can check, or
// faults, and the start is not aligned to anything.
func atEnd(v []float32, off int) []float32 {
	buf := make([]float32, off+len(v), off+len(v))
	copy(buf[off:], v)
	return buf[off:]
}

func gather2Go(dst, src []float32) { gather2RowsGo(dst, len(dst), src, 0, len(dst), 1) }

func addScatter2Go(dst, src []float32) { addScatter2RowsGo(dst, 0, src, len(src), len(src), 1) }

// TestStride2MatchesGo checks Gather2, Deinterleave and AddScatter2 against their Go twins bit
// for bit (NaN payloads and −0 included) for every length up to 70, with unaligned starts and
// the shortest allowed source or destination, and that nothing outside the written elements
// changes. Under purego both sides are the Go code.
func TestStride2MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for n := 0; n <= 70; n++ {
		for off := range 8 {
			sl := max(2*n-1, 0)
			src := atEnd(stride2Vals(r, sl), off)
			guard := stride2Vals(r, n+9)
			want := append([]float32(nil), guard...)
			got := append([]float32(nil), guard...)
			gather2Go(want[off:off+n], src)
			Gather2(got[off:off+n], src)
			sameBits(t, "Gather2", got, want)

			src = atEnd(stride2Vals(r, n), off)
			want = stride2Vals(r, off+sl+9)
			got = append([]float32(nil), want...)
			addScatter2Go(want[off:off+sl], src)
			AddScatter2(got[off:off+sl], src)
			sameBits(t, "AddScatter2", got, want)

			src = atEnd(stride2Vals(r, n), off)
			ne, no := (n+1)/2, n/2
			we, wo := append([]float32(nil), guard...), append([]float32(nil), guard...)
			ge, gO := append([]float32(nil), guard...), append([]float32(nil), guard...)
			deinterleaveGo(we[off:off+ne], wo[1:1+no], src)
			Deinterleave(ge[off:off+ne], gO[1:1+no], src)
			sameBits(t, "Deinterleave even", ge, we)
			sameBits(t, "Deinterleave odd", gO, wo)
		}
	}
}

// TestStride2RowsMatchGo checks the row forms against their Go twins bit for bit on bands of
// one to four rows with gaps between them (ld and ls above the minimum), unaligned starts and
// guard elements around dst that must not change.
func TestStride2RowsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	for n := 1; n <= 40; n++ {
		for rows := 1; rows <= 4; rows++ {
			off := r.IntN(8)
			// Gather2Rows: dst rows ld ≥ n apart, src rows ls ≥ 0 apart.
			ld, ls := n+r.IntN(3), 2*n-1+r.IntN(4)-1
			ls = max(ls, 0)
			src := atEnd(stride2Vals(r, (rows-1)*ls+2*n-1), off)
			want := stride2Vals(r, off+(rows-1)*ld+n+9)
			got := append([]float32(nil), want...)
			gather2RowsGo(want[off:], ld, src, ls, n, rows)
			Gather2Rows(got[off:off+(rows-1)*ld+n], ld, src, ls, n, rows)
			sameBits(t, "Gather2Rows", got, want)

			// AddScatter2Rows: dst rows ld ≥ 2n−1 apart.
			ld, ls = 2*n-1+r.IntN(3), n+r.IntN(3)
			src = atEnd(stride2Vals(r, (rows-1)*ls+n), off)
			want = stride2Vals(r, off+(rows-1)*ld+2*n-1+9)
			got = append([]float32(nil), want...)
			addScatter2RowsGo(want[off:], ld, src, ls, n, rows)
			AddScatter2Rows(got[off:off+(rows-1)*ld+2*n-1], ld, src, ls, n, rows)
			sameBits(t, "AddScatter2Rows", got, want)
		}
	}
}

// TestAddScatter2NaNOrder checks the case where the twins could disagree: both operands NaN
// with different payloads, where x86 keeps the first operand's; the result must be Go's.
func TestAddScatter2NaNOrder(t *testing.T) {
	for _, n := range []int{1, 4, 5, 8, 9, 16, 17, 33} {
		src := make([]float32, n)
		want := make([]float32, 2*n-1)
		for i := range src {
			src[i] = math.Float32frombits(0x7fc00000 | uint32(i+1))
		}
		for i := range want {
			want[i] = math.Float32frombits(0xffc00000 | uint32(i+100))
		}
		got := append([]float32(nil), want...)
		addScatter2Go(want, src)
		AddScatter2(got, src)
		sameBits(t, "AddScatter2 NaN", got, want)
	}
}

// TestStride2Panics checks that short slices are refused with a panic, not read past.
func TestStride2Panics(t *testing.T) {
	for name, f := range map[string]func(){
		"Gather2":                 func() { Gather2(make([]float32, 5), make([]float32, 8)) },
		"AddScatter2":             func() { AddScatter2(make([]float32, 8), make([]float32, 5)) },
		"Deinterleave":            func() { Deinterleave(make([]float32, 4), make([]float32, 5), make([]float32, 9)) },
		"Gather2Rows":             func() { Gather2Rows(make([]float32, 12), 6, make([]float32, 18), 10, 5, 2) },
		"Gather2Rows ld":          func() { Gather2Rows(make([]float32, 100), 4, make([]float32, 100), 10, 5, 2) },
		"AddScatter2Rows":         func() { AddScatter2Rows(make([]float32, 17), 9, make([]float32, 10), 5, 5, 2) },
		"AddScatter2Rows overlap": func() { AddScatter2Rows(make([]float32, 100), 8, make([]float32, 100), 5, 5, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s accepted a short slice", name)
				}
			}()
			f()
		}()
	}
}
