package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// phasesFunc is WinogradPhases4's signature, so that its paths can be tested alike.
type phasesFunc func(p []float32, ps int, src []float32, w, y0, rows int, s, t float32, relu bool)

// guardBits marks phase values nothing should write; a NaN, so that no computed value has it.
const guardBits = 0x7fc0dead

// checkPhases compares f with winogradPhases4Go bit for bit on every start row and row count
// of planes up to 12 rows high, w ∈ {8, 16, 32, 48, 64}, with NaN, ±0 and ±Inf pixels and
// relu on and off, on phase planes laid out with gaps between them and guard values around
// and between them, so that a write outside the destination shows.
func checkPhases(t *testing.T, f phasesFunc) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	special := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7fa00001)}
	for _, w := range []int{8, 16, 32, 48, 64} {
		const h = 12
		tw := w / 4
		ps := (h/4+1)*tw + 5
		img := randSlice(r, h*w)
		for i, v := range special {
			img[r.IntN(len(img))] = v
			img[i*w+w-1] = v // the last pixel of a row feeds planes 4 and 5
		}
		img[w] = float32(math.NaN())
		for _, relu := range []bool{false, true} {
			for y0 := range h {
				for rows := 1; y0+rows <= h; rows++ {
					name := fmt.Sprintf("w=%d y0=%d rows=%d relu=%v", w, y0, rows, relu)
					got := guarded(24*ps + 7)
					want := guarded(24*ps + 7)
					f(got, ps, img[y0*w:(y0+rows)*w], w, y0, rows, 0.7, -0.2, relu)
					winogradPhases4Go(want, ps, img[y0*w:(y0+rows)*w], w, y0, rows, 0.7, -0.2, relu)
					for i := range want {
						if g, w := math.Float32bits(got[i]), math.Float32bits(want[i]); g != w {
							t.Fatalf("%s: p[%d] = %#x, Go gives %#x", name, i, g, w)
						}
					}
					if n := written(want); n != 6*rows*tw {
						t.Fatalf("%s: Go wrote %d values, want %d", name, n, 6*rows*tw)
					}
				}
			}
		}
	}
}

func guarded(n int) []float32 {
	p := make([]float32, n)
	for i := range p {
		p[i] = math.Float32frombits(guardBits)
	}
	return p
}

func written(p []float32) int {
	n := 0
	for _, v := range p {
		if math.Float32bits(v) != guardBits {
			n++
		}
	}
	return n
}

// TestWinogradPhases4Bits checks WinogradPhases4, on whichever path this build and CPU take,
// against the Go version bit for bit, guards included.
func TestWinogradPhases4Bits(t *testing.T) {
	checkPhases(t, WinogradPhases4)
}
