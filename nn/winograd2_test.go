package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// winograd2Mag returns, per output of one image (cin×h×w, already normalised) convolved with
// k, the magnitude that bounds F(2×2, 3×3)'s rounding: |Aᵀ| (Σ_ci |G||g||Gᵀ| ⊙ |Bᵀ||d||B|) |A|,
// the transform-domain sum with every coefficient, weight and pixel replaced by its absolute value.
//
// The bound it serves: the input transform rounds twice per element (each 1-D pass one
// addition), U once, the product of K = cin terms at most K + ⌈K/384⌉ + 1 times (gemm's
// contract), the output transform four times (two additions per 1-D pass), and acc once more.
// Each rounding is relative to a partial sum whose magnitude the absolute-value computation
// bounds, so |got − exact| ≤ (cin + ⌈cin/384⌉ + 9)·u·mag·(1+ε), u = 2⁻²⁴, plus u·|dst| with acc.
func winograd2Mag(img []float32, cin, cout, h, w int, k []float32) []float64 {
	bt := [4][4]float64{{1, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}}
	g := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, {0, 0, 1}}
	at := [2][4]float64{{1, 1, 1, 0}, {0, 1, 1, 1}}
	th, tw := (h+1)/2, (w+1)/2
	pix := func(c, y, x int) float64 {
		if y < 0 || y >= h || x < 0 || x >= w {
			return 0
		}
		return math.Abs(float64(img[(c*h+y)*w+x]))
	}
	// |U| per (co, ci, ξ).
	ua := make([]float64, cout*cin*16)
	for p := range cout * cin {
		for a := range 4 {
			for b := range 4 {
				var s float64
				for i := range 3 {
					for j := range 3 {
						s += g[a][i] * math.Abs(float64(k[p*9+i*3+j])) * g[b][j]
					}
				}
				ua[p*16+4*a+b] = s
			}
		}
	}
	mag := make([]float64, cout*h*w)
	va := make([]float64, cin*16)
	for ty := range th {
		for tx := range tw {
			for ci := range cin {
				for a := range 4 {
					for b := range 4 {
						var s float64
						for i := range 4 {
							for j := range 4 {
								s += bt[a][i] * pix(ci, 2*ty+i-1, 2*tx+j-1) * bt[b][j]
							}
						}
						va[ci*16+4*a+b] = s
					}
				}
			}
			for co := range cout {
				var m [16]float64
				for ci := range cin {
					for xi := range 16 {
						m[xi] += ua[(co*cin+ci)*16+xi] * va[ci*16+xi]
					}
				}
				for a := range 2 {
					for b := range 2 {
						y, x := 2*ty+a, 2*tx+b
						if y >= h || x >= w {
							continue
						}
						var s float64
						for i := range 4 {
							for j := range 4 {
								s += at[a][i] * m[4*i+j] * at[b][j]
							}
						}
						mag[(co*h+y)*w+x] = s
					}
				}
			}
		}
	}
	return mag
}

// TestWinograd2MatchesNaive runs the F(2×2) path directly on several images, with and without a
// fused normalisation and accumulation, in chunks of various numbers of tiles (splitting rows
// and images), and checks it against a float64 convolution within the bound of winograd2Mag,
// and that the chunking does not change a bit. The same layers transposed are the input
// gradients of the convolution, so this covers the backward direction too (TestWinograd2Layers
// checks that wiring).
func TestWinograd2MatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	cases := []struct{ cin, cout, h, w int }{
		{5, 7, 14, 14}, {3, 4, 7, 7}, {4, 3, 28, 28}, {2, 3, 56, 56}, {3, 2, 5, 9}, {2, 2, 2, 2},
		{1, 1, 3, 6}, {6, 5, 12, 10}, {16, 12, 6, 6}, {20, 9, 4, 12}, {2, 3, 9, 4},
	}
	const u = 1.0 / (1 << 24)
	for _, tc := range cases {
		in := Shape{tc.cin, tc.h, tc.w}
		hw := tc.h * tc.w
		c := Conv{Out: tc.cout, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, tc.cout*tc.cin*9, 0.5)}
		bn := randBN(r, tc.cin)
		b := NewBuilder(in)
		a := b.nodes[b.BatchNorm("bn", b.Input(), bn).id].op.(*affine)
		a.relu = true
		const n, cap = 3, 4
		src := randVec(r, tc.cin*cap*hw, 1)
		bound := float64(tc.cin+(tc.cin+383)/384+9) * u * 1.01
		for _, withPre := range []bool{false, true} {
			var p *affine
			if withPre {
				p = a
			}
			var ref []float32 // the first chunking's output, which every other must reproduce
			for _, tiles := range []int{0, 16, 7, 48, 1000} {
				wg := newWinograd2(tc.cin, tc.cout, tc.h, tc.w, c.Weight, winogradBudget)
				if tiles > 0 {
					wg.tiles = tiles
				}
				v, m, pp := wg.scratch(cap)
				x := winogradCtx(cap, v, m, pp)
				for _, acc := range []bool{false, true} {
					dst := randVec(r, tc.cout*cap*hw, 1)
					old := append([]float32(nil), dst...)
					wg.run(x, n, src, cap*hw, p, dst, cap*hw, acc, nil)
					for bi := range n {
						img := batchImage(src, p, bi, in, cap)
						want, _ := naiveConv(img, in, c)
						mag := winograd2Mag(img, tc.cin, tc.cout, tc.h, tc.w, c.Weight)
						for co := range tc.cout {
							for i := range hw {
								j := co*cap*hw + bi*hw + i
								got, lim := float64(dst[j]), bound*mag[co*hw+i]
								if acc {
									got -= float64(old[j])
									lim += u * math.Abs(float64(dst[j]))
								}
								w := want[co*hw+i]
								if d := math.Abs(got - w); d > lim {
									t.Fatalf("%+v pre %v tiles %d acc %v image %d channel %d pixel %d: got %v want %v (error %g > bound %g)",
										tc, withPre, tiles, acc, bi, co, i, got, w, d, lim)
								}
							}
						}
					}
					// Channels past the images run are untouched.
					for co := range tc.cout {
						for i := n * hw; i < cap*hw; i++ {
							if j := co*cap*hw + i; dst[j] != old[j] {
								t.Fatalf("%+v: element %d past the images changed", tc, j)
							}
						}
					}
					if acc {
						continue
					}
					if j := sameAsFirst(&ref, dst, tc.cout, cap*hw, n*hw); j >= 0 {
						t.Fatalf("%+v pre %v: %d tiles per chunk changes output %d: %v vs %v", tc, withPre, tiles, j, dst[j], ref[j])
					}
				}
			}
		}
	}
}

// TestWinograd2Chosen makes sure which planes take the F(2×2) path, in both directions, that
// direct packed weights are dropped where it does, and that the graph says so (Arithmetic).
func TestWinograd2Chosen(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		h, w   int
		fw, bw bool
	}{{56, 56, true, true}, {28, 28, true, true}, {14, 14, true, true}, {7, 7, true, true}, {6, 6, true, true},
		{2, 3, true, true}, {1, 5, false, false}, {16, 16, false, false}, {8, 8, false, false}, {30, 40, true, true}} {
		b := NewBuilder(Shape{2, tc.h, tc.w})
		y := b.Conv2d("c", b.Input(), Conv{Out: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 54, 1)})
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 2, randVec(r, 6, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		c := g.plan.steps[0].op.(*conv)
		if fw, bw := c.fwW2 != nil, c.bwW2 != nil; fw != tc.fw || bw != tc.bw {
			t.Errorf("%d×%d planes: F(2×2) forward %v backward %v, want %v %v", tc.h, tc.w, fw, bw, tc.fw, tc.bw)
		}
		if (tc.fw && (c.fw != nil || c.fwDirect)) || (tc.bw && (c.bw != nil || c.bwDirect)) {
			t.Errorf("%d×%d planes: direct weights kept beside F(2×2)", tc.h, tc.w)
		}
		if want := map[bool]string{true: "winograd2x2"}[tc.fw || tc.bw]; g.Arithmetic() != want {
			t.Errorf("%d×%d planes: Arithmetic %q, want %q", tc.h, tc.w, g.Arithmetic(), want)
		}
	}
}

// TestWinograd2Layers checks networks whose 3×3 convolutions take the F(2×2) path (ResNet-like
// planes, a fused normalisation, a residual sum, an odd plane) against the same networks on the
// direct paths, forward and backward, and their determinism across workers and batches.
func TestWinograd2Layers(t *testing.T) {
	for _, in := range []Shape{{4, 14, 14}, {3, 7, 7}, {5, 6, 10}} {
		t.Run(in.String(), func(t *testing.T) {
			build := func() *Graph {
				r := rand.New(rand.NewPCG(31, 32))
				b := NewBuilder(in)
				h := b.Conv2d("c0", b.Input(), Conv{Out: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 6*in.C*9, 0.3)})
				y := b.Conv2d("c1", b.ReLU(b.BatchNorm("bn", h, randBN(r, 6))), Conv{Out: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 36*9, 0.3)})
				h = b.ReLU(b.Add(h, y))
				h = b.Conv2d("c2", h, Conv{Out: 5, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 30*9, 0.3), Bias: randVec(r, 5, 0.1)})
				g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.ReLU(h)), 4, randVec(r, 20, 1), nil))
				if err != nil {
					t.Fatal(err)
				}
				return g
			}
			g := build()
			wino := 0
			for _, st := range g.plan.steps {
				if c := stepConv(st.op); c != nil && c.fwW2 != nil && c.bwW2 != nil {
					wino++
				}
			}
			if wino < 2 {
				t.Fatalf("%d convolutions on the F(2×2) path, want at least 2", wino)
			}
			x := randVec(rand.New(rand.NewPCG(33, 34)), 5*in.Size(), 1)
			direct := build()
			for _, st := range direct.plan.steps {
				if c := stepConv(st.op); c != nil {
					c.prepareWith(true)
				}
			}
			l1, g1 := runOnce(t, g, x, 5)
			l2, g2 := runOnce(t, direct, x, 5)
			if d := relL2(l1, l2); d > 1e-5 {
				t.Errorf("logits differ from the direct paths' by %g (relative L2)", d)
			}
			if d := relL2(g1, g2); d > 1e-5 {
				t.Errorf("input gradients differ from the direct paths' by %g (relative L2)", d)
			}
			checkDeterministic(t, g, x, 5, [][2]int{{2, 2}, {1, 5}, {2, 1}})
		})
	}
}

// runOnce runs g forward and backward from its logits on n images in one micro-batch.
func runOnce(t *testing.T, g *Graph, x []float32, n int) (logits, grads []float32) {
	t.Helper()
	e := g.NewExec(n)
	if err := e.Forward(x, n); err != nil {
		t.Fatal(err)
	}
	l := e.Logits(nil)
	grads, err := e.Backward("", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, grads
}

func relL2(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		s += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d / s)
}

// TestDirectPathsWithoutWinograd2 keeps the lowered and direct paths of 3×3 stride-1 pad-1
// convolutions covered now that F(2×2) takes the planes the older tests used for them (6×6,
// 5×5, 4×4): with Winograd off, the forward against a float64 convolution, and the input
// gradient (the flipped-kernel product, lowered when cout·9 > 640) against finite differences.
func TestDirectPathsWithoutWinograd2(t *testing.T) {
	for _, tc := range []struct{ cin, cout, h int }{{80, 5, 6}, {8, 90, 5}, {80, 80, 4}, {4, 6, 6}} {
		r := rand.New(rand.NewPCG(41, uint64(tc.cin)))
		in := Shape{tc.cin, tc.h, tc.h}
		c := Conv{Out: tc.cout, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, tc.cout*tc.cin*9, 0.4)}
		b := NewBuilder(in)
		y := b.Conv2d("c", b.Input(), c)
		b.Tap("c", y)
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 3, randVec(r, 3*tc.cout, 1), randVec(r, 3, 1)))
		if err != nil {
			t.Fatal(err)
		}
		cv := stepConv(g.plan.steps[0].op)
		cv.prepareWith(true)
		if cv.fwW2 != nil || cv.bwW2 != nil || cv.fwWino != nil {
			t.Fatalf("%+v: Winograd still on", tc)
		}
		x := randVec(r, 2*in.Size(), 1)
		e := g.NewExec(2)
		if err := e.Forward(x, 2); err != nil {
			t.Fatal(err)
		}
		got, _ := e.Tap("c", nil)
		for bi := range 2 {
			want, os := naiveConv(x[bi*in.Size():], in, c)
			for i, w := range want {
				if d := math.Abs(float64(got[bi*os.Size()+i]) - w); d > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%+v image %d element %d: got %v want %v", tc, bi, i, got[bi*os.Size()+i], w)
				}
			}
		}
		checkInputGradient(t, g, r)
	}
}
