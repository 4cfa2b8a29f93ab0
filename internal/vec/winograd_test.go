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
	for _, groups := range []int{1, 2, 5} {
		const ps, pw = 97, 13
		src := randSlice(r, 24*ps)
		n := 4 * groups
		ds := n + 3
		got := make([]float32, 36*ds)
		want := make([]float32, 36*ds)
		WinogradIn4(got, ds, src, ps, pw, groups)
		winogradIn4Go(want, ds, src, ps, pw, groups)
		sameBits(t, "WinogradIn4", got, want)

		for _, units := range []int{1, 3} {
			ms, ld := n*units+1, 16*groups+5
			m := randSlice(r, 36*ms)
			for _, tile2 := range []int{8, 4 * ld} {
				unit := 4*ld + 2
				if tile2 > 8 {
					unit = 8*ld + 2
				}
				for _, acc := range []bool{false, true} {
					got := randSlice(r, units*unit)
					want := append([]float32(nil), got...)
					WinogradOut4(got, ld, m, ms, groups, units, unit, tile2, acc)
					for u := range units {
						winogradOut4Go(want[u*unit:], ld, m[u*n:], ms, groups, tile2, acc)
					}
					sameBits(t, "WinogradOut4", got, want)
				}
			}
		}
	}
}

// TestWinogradPhases checks the phase planes of a padded, normalised plane against their
// definition, for every starting row and count, and the assembly against Go bit for bit.
func TestWinogradPhases(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, hw := range [][2]int{{4, 16}, {8, 32}, {12, 48}, {8, 8}, {4, 12}} {
		h, w := hw[0], hw[1]
		tw := w / 4
		ps := (h/4+1)*tw + 3
		img := randSlice(r, h*w)
		img[0], img[3] = float32(math.NaN()), float32(math.Copysign(0, -1))
		for _, relu := range []bool{false, true} {
			for y0 := range h {
				for rows := 1; y0+rows <= h; rows++ {
					got := randSlice(r, 24*ps)
					want := append([]float32(nil), got...)
					WinogradPhases4(got, ps, img[y0*w:], w, y0, rows, 0.7, -0.2, relu)
					winogradPhases4Go(want, ps, img[y0*w:], w, y0, rows, 0.7, -0.2, relu)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
							t.Fatalf("%d×%d rows %d+%d: [%d] = %v, Go gives %v", h, w, y0, rows, i, got[i], want[i])
						}
					}
					for y := y0 + 1; y <= y0+rows; y++ {
						for v := range tw {
							for j := range 6 {
								x := 4*v + j
								var want float32
								if x >= 1 && x <= w {
									want = img[(y-1)*w+x-1]*0.7 - 0.2
									if relu && !(want > 0) {
										want = 0
									}
								}
								g := got[(y%4*6+j)*ps+y/4*tw+v]
								if math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
									t.Fatalf("%d×%d rows %d+%d: padded (%d, %d) in plane %d = %v, want %v", h, w, y0, rows, y, x, j, g, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestWinogradCorrelation checks the transforms against a direct 3×3 correlation of a
// zero-padded image, tile by tile: Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A with a different kernel for each
// tile, transformed in float64. Planes 8 wide run in groups two tiles wide and two high.
func TestWinogradCorrelation(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := [6][3]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}}
	for _, hw := range [][2]int{{8, 32}, {8, 8}, {4, 16}} {
		h, w := hw[0], hw[1]
		th, tw := h/4, w/4
		ps := (th + 1) * tw
		img := randSlice(r, h*w)
		p := make([]float32, 24*ps)
		for _, y := range []int{0, h + 1} {
			for j := range 6 {
				clear(p[(y%4*6+j)*ps+y/4*tw:][:tw])
			}
		}
		WinogradPhases4(p, ps, img, w, 0, h, 1, 0, false)
		n := th * tw
		v := make([]float32, 36*n)
		WinogradIn4(v, n, p, ps, tw, n/4)
		kern := make([][3][3]float64, n)
		for tt := range n {
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
				v[e*n+tt] *= float32(u[e/6][e%6])
			}
		}
		out := make([]float32, h*w)
		if tw%4 == 0 {
			WinogradOut4(out, w, v, n, tw/4, th, 4*w, 8, false)
		} else {
			WinogradOut4(out, w, v, n, 1, th/2, 8*w, 4*w, false)
		}
		pixel := func(y, x int) float64 {
			if y < 0 || y >= h || x < 0 || x >= w {
				return 0
			}
			return float64(img[y*w+x])
		}
		for y := range h {
			for x := range w {
				k := kern[y/4*tw+x/4]
				var want float64
				for i := range 3 {
					for j := range 3 {
						want += k[i][j] * pixel(y+i-1, x+j-1)
					}
				}
				if got := float64(out[y*w+x]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("%d×%d: output (%d, %d) = %v, direct %v", h, w, y, x, got, want)
				}
			}
		}
	}
}

// TestWinogradIn16 checks the sixteen-tile AVX-512 input transform against the Go version bit
// for bit, whatever ODIN_KERNEL says, wherever the CPU has AVX-512.
func TestWinogradIn16(t *testing.T) {
	if !hasWinograd || !cpuHasAVX512() {
		t.Skip("the sixteen-tile input transform is not tested: it needs amd64 with AVX-512 F (and no purego tag)")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, blocks := range []int{1, 2, 3} {
		const ps, pw = 211, 53
		src := randSlice(r, 24*ps)
		src[5] = float32(math.Copysign(0, -1))
		src[17] = float32(math.Inf(1))
		n := 16 * blocks
		ds := n + 5
		got, want := make([]float32, 36*ds), make([]float32, 36*ds)
		winogradIn16Asm(&got[0], ds, &src[0], ps, pw, blocks)
		winogradIn4Go(want, ds, src, ps, pw, 4*blocks)
		sameBits(t, "winogradIn16Asm", got, want)
	}
}

// TestWinogradOut16 checks the AVX-512 inverse transform against the Go version bit for bit,
// whatever ODIN_KERNEL says: groups that straddle units, both tile arrangements, acc or not,
// and a number of groups that leaves some to the four-tile code.
func TestWinogradOut16(t *testing.T) {
	if !hasWinograd || !cpuHasAVX512() {
		t.Skip("the sixteen-tile inverse transform is not tested: it needs amd64 with AVX-512 F (and no purego tag)")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, sh := range []struct{ groups, units int }{{1, 4}, {2, 2}, {2, 3}, {3, 5}, {4, 1}} {
		n := 4 * sh.groups * sh.units
		ms, ld := n+3, 16*sh.groups+7
		m := randSlice(r, 36*ms)
		m[2] = float32(math.Copysign(0, -1))
		for _, tile2 := range []int{8, 4 * ld} {
			unit := 4*ld + 1
			if tile2 > 8 {
				unit = 8*ld + 1
			}
			for _, acc := range []bool{false, true} {
				got := randSlice(r, sh.units*unit+tile2)
				want := append([]float32(nil), got...)
				winogradOut16Only(got, ld, m, ms, sh.groups, sh.units, unit, tile2, acc)
				for u := range sh.units {
					winogradOut4Go(want[u*unit:], ld, m[u*4*sh.groups:], ms, sh.groups, tile2, acc)
				}
				sameBits(t, "winogradOut16Asm", got, want)
			}
		}
	}
}
