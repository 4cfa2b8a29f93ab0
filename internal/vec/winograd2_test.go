package vec

import (
	"math/rand/v2"
	"testing"
)

// TestWinograd2MatchesGo checks the F(2×2) transforms against their Go twins bit for bit, for
// every block length around the vector width (masked tails), odd and even planes, one or two
// output rows, and with and without accumulation; elements outside the written ranges must
// stay as they were. Under purego both sides are the Go code.
func TestWinograd2MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for n := 1; n <= 35; n++ {
		r0, r1, r2, r3 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
		want, got := randSlice(r, 4*n+9), make([]float32, 4*n+9)
		copy(got, want)
		winograd2ColsGo(want, r0, r1, r2, r3)
		Winograd2Cols(got, r0, r1, r2, r3)
		sameBits(t, "Winograd2Cols", got, want)
	}
	for k := 2; k <= 30; k++ {
		src := randSlice(r, 8*k+3)
		for tx := range k - 1 {
			for n := 1; tx+n+1 <= k && n <= 17; n++ {
				ds := n + r.IntN(5)
				want := randSlice(r, 16*ds+3)
				got := append([]float32(nil), want...)
				winograd2RowsGo(want, ds, src, k, tx, n)
				Winograd2Rows(got, ds, src, k, tx, n)
				sameBits(t, "Winograd2Rows", got, want)
			}
		}
	}
	for w := 2; w <= 40; w++ {
		tw := (w + 1) / 2
		for tx := range tw {
			for n := 1; tx+n <= tw; n++ {
				ms := n + r.IntN(5)
				src := randSlice(r, 16*ms)
				for rows := 1; rows <= 2; rows++ {
					for _, acc := range []bool{false, true} {
						want := randSlice(r, 2*w+3)
						got := append([]float32(nil), want...)
						winograd2OutGo(want, w, rows, src, ms, tx, n, acc)
						Winograd2Out(got, w, rows, src, ms, tx, n, acc)
						sameBits(t, "Winograd2Out", got, want)
					}
				}
			}
		}
	}
}
