package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s [%d] = %v, Go gives %v", what, i, got[i], want[i])
		}
	}
}

// TestWinogradAgainstGo checks that the assembly (where it runs) gives the Go versions' bits.
func TestWinogradAgainstGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, groups := range []int{1, 2, 3} {
		const ps, pw = 97, 13
		src := randSlice(r, 16*ps)
		var off [36]int
		for i := range 6 {
			for j := range 6 {
				off[6*i+j] = ((i%4)*4+j%4)*ps + (i/4)*pw + j/4
			}
		}
		ds := 4*groups + 3
		got := make([]float32, 36*ds)
		want := make([]float32, 36*ds)
		WinogradIn4(got, ds, src, &off, groups)
		winogradIn4Go(want, ds, src, &off, groups)
		sameBits(t, "WinogradIn4", got, want)

		ms, ld := 4*groups+1, 16*groups+5
		m := randSlice(r, 36*ms)
		for _, acc := range []bool{false, true} {
			got := randSlice(r, 4*ld)
			want := append([]float32(nil), got...)
			WinogradOut4(got, ld, m, ms, groups, acc)
			winogradOut4Go(want, ld, m, ms, groups, acc)
			sameBits(t, "WinogradOut4", got, want)
		}
	}
	for _, n := range []int{16, 32, 48} {
		src := randSlice(r, n)
		src[0], src[5] = float32(math.NaN()), float32(math.Copysign(0, -1))
		for _, relu := range []bool{false, true} {
			var got, want [4][]float32
			for k := range 4 {
				got[k], want[k] = make([]float32, n/4), make([]float32, n/4)
			}
			SplitPhases4(got[0], got[1], got[2], got[3], src, 0.7, -0.2, relu)
			splitPhases4Go(want[0], want[1], want[2], want[3], src, 0.7, -0.2, relu)
			for k := range 4 {
				sameBits(t, "SplitPhases4", got[k], want[k])
				for v, y := range got[k] {
					x := src[4*v+k]*0.7 - 0.2
					if relu && !(x > 0) {
						x = 0
					}
					if math.Float32bits(x) != math.Float32bits(y) && !(x != x && y != y) {
						t.Fatalf("SplitPhases4 relu=%v phase %d [%d] = %v, want %v", relu, k, v, y, x)
					}
				}
			}
		}
	}
}

// TestWinogradCorrelation checks the transforms against a direct 3×3 correlation of 6×6 tiles:
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A with the kernel transformed in float64.
func TestWinogradCorrelation(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := [6][3]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}}
	const groups = 2
	const w = 4 * groups
	tiles := make([]float32, 36*w) // element (i, j) of tile t at (6i+j)·w + t
	for i := range tiles {
		tiles[i] = float32(r.NormFloat64())
	}
	var off [36]int
	for e := range off {
		off[e] = e * w
	}
	v := make([]float32, 36*w)
	WinogradIn4(v, w, tiles, &off, groups)
	kern := make([][3][3]float64, w)
	for tt := range w {
		for i := range 3 {
			for j := range 3 {
				kern[tt][i][j] = r.NormFloat64()
			}
		}
		var u [6][6]float64
		for a := range 6 {
			for b := range 6 {
				for i := range 3 {
					for j := range 3 {
						u[a][b] += g[a][i] * kern[tt][i][j] * g[b][j]
					}
				}
			}
		}
		for e := range 36 {
			v[e*w+tt] *= float32(u[e/6][e%6])
		}
	}
	out := make([]float32, 4*4*w)
	WinogradOut4(out, 4*w, v, w, groups, false)
	for tt := range w {
		for a := range 4 {
			for b := range 4 {
				var want float64
				for i := range 3 {
					for j := range 3 {
						want += kern[tt][i][j] * float64(tiles[(6*(a+i)+b+j)*w+tt])
					}
				}
				got := float64(out[a*4*w+4*tt+b])
				if math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("tile %d output (%d, %d) = %v, direct %v", tt, a, b, got, want)
				}
			}
		}
	}
}
