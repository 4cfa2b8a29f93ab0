package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/guardpage"
)

// TestMaxPoolFirstMaximum checks the fast max pooling against argmax, the first maximum in
// row-major order, on planes full of ties, signed zeros, infinities and NaNs: the same bits
// forward, and every gradient sent to the same pixel.
func TestMaxPoolFirstMaximum(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	pick := []float32{-1, 0, float32(math.Copysign(0, -1)), 1, 2, 2, inf, -inf, nan}
	for _, p := range []Pool2D{
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true},
		{KH: 2, KW: 3, DilH: 2, DilW: 2, Pads: []int{0, 1, 1, 0}},
	} {
		b := NewBuilder(Shape{2, 9, 11})
		y := b.MaxPool(b.Input(), p)
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 2, []float32{1, 0, 0, 1}, nil))
		if err != nil {
			t.Fatal(err)
		}
		m := g.plan.steps[0].op.(*maxPool)
		const n = 3
		x := make([]float32, n*g.Input().Size())
		for i := range x {
			x[i] = pick[r.IntN(len(pick))]
			if r.IntN(3) > 0 {
				x[i] = float32(r.IntN(3)) // mostly ties
			}
		}
		e := g.NewExec(n)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
		ldi, ldo := e.x.ld(hw), e.x.ld(ohw)
		got := e.vals[g.plan.steps[0].out]
		gout := make([]float32, len(got))
		for i := range gout {
			gout[i] = float32(i%7 + 1)
		}
		gin := [][]float32{make([]float32, len(e.vals[0]))}
		m.backward(&e.x, n, [][]float32{e.vals[0]}, got, gout, gin)
		for c := range m.in.C {
			for bi := range n {
				src := e.vals[0][c*ldi+bi*hw : c*ldi+(bi+1)*hw]
				want := make([]float32, hw)
				for oy := range m.out.H {
					for ox := range m.out.W {
						o := c*ldo + bi*ohw + oy*m.out.W + ox
						k := m.argmax(src, oy, ox)
						v := float32(math.Inf(-1))
						if k >= 0 {
							v = src[k]
							want[k] += gout[o]
						}
						if math.Float32bits(v) != math.Float32bits(got[o]) && !(v != v && got[o] != got[o]) {
							t.Fatalf("%+v: output (%d,%d) of plane %d/%d is %v, want %v", p, oy, ox, c, bi, got[o], v)
						}
					}
				}
				for k, v := range want {
					if d := gin[0][c*ldi+bi*hw+k]; d != v {
						t.Fatalf("%+v: gradient at %d of plane %d/%d is %v, want %v", p, k, c, bi, d, v)
					}
				}
			}
		}
	}
}

// refMaxPoolBackward is max pooling's backward pass before the row kernels.
func refMaxPoolBackward(m *maxPool, x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	w := m.in.W
	for c := range m.in.C {
		for b := range n {
			src := in[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			d := gin[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			g := gout[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			o := out[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range m.out.H {
				y := m.ys[oy]
				for ox := range m.out.W {
					xr, v := m.xs[ox], o[oy*m.out.W+ox]
					k := -1
					if v == v {
					find:
						for i := y.lo; i < y.hi; i++ {
							base := (y.at+i*m.dh)*w + xr.at
							for j := xr.lo; j < xr.hi; j++ {
								if src[base+j*m.dw] == v {
									k = base + j*m.dw
									break find
								}
							}
						}
					} else {
						k = m.argmax(src, oy, ox)
					}
					if k >= 0 {
						d[k] += g[oy*m.out.W+ox]
					}
				}
			}
		}
	}
}

// poolValues returns n values for pooling tests: mostly small integers (ties), signed zeros,
// infinities, NaNs of several payloads and signs at rate 1/nanRate (none if 0), and some
// random reals.
func poolValues(r *rand.Rand, n, nanRate int) []float32 {
	negZero := float32(math.Copysign(0, -1))
	pick := []float32{-2, -1, -1, 0, 0, negZero, negZero, 1, 2, float32(math.Inf(1)), float32(math.Inf(-1))}
	x := make([]float32, n)
	for i := range x {
		switch {
		case nanRate > 0 && r.IntN(nanRate) == 0:
			x[i] = math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)) | uint32(r.IntN(2))<<31)
		case r.IntN(4) == 0:
			x[i] = float32(r.NormFloat64())
		default:
			x[i] = pick[r.IntN(len(pick))]
		}
	}
	return x
}

// TestMaxPoolMatchesReference checks max pooling's forward and backward passes against the
// scalar code they replaced (maxPool.plane, which other windows still run, and
// refMaxPoolBackward), bit for bit, NaN payloads
// included, on planes of every size up to 20 and 112 under several windows, two images in
// channel-major layout with padded channel strides. Every 3×3 stride-2 geometry the row kernels
// take goes to them (their Go twins where the build has no vector kernel). Values past the planes
// are +∞ and NaN, so that a window reading them would show.
func TestMaxPoolMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	pools := []Pool2D{
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}, CeilMode: true},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{2, 0, 1, 2}},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{0, 2, 2, 1}, CeilMode: true},
		{KH: 3, KW: 3, StrideH: 1, StrideW: 1, Pads: []int{1, 1, 1, 1}},
		{KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 2, DilW: 2, Pads: []int{2, 2, 2, 2}},
		{KH: 2, KW: 3, StrideH: 1, StrideW: 2, DilH: 2, Pads: []int{0, 1, 1, 0}},
	}
	sizes := []int{112}
	for s := 1; s <= 20; s++ {
		sizes = append(sizes, s)
	}
	const n, ch = 2, 2
	fast := 0
	for _, p := range pools {
		for _, h := range sizes {
			for _, w := range sizes {
				if (h == 112 || w == 112) && h != w && r.IntN(4) > 0 {
					continue
				}
				b := NewBuilder(Shape{ch, h, w})
				win, ok := b.window("maxpool", b.Input(), p)
				if !ok {
					continue
				}
				m := newMaxPool(win)
				m.s3 = m.cx1-m.cx0 >= 8 // the Go twins where there is no vector kernel
				if m.s3 {
					fast++
				}
				nanRate := []int{0, 0, 97, 7}[r.IntN(4)]
				checkMaxPool(t, m, n, poolValues(r, ch*(n*h*w+rowPad), nanRate), r)
			}
		}
		// Rows wider than the backward pass's chunks of 64 outputs.
		for _, w := range []int{139, 140, 141, 150, 259, 290} {
			b := NewBuilder(Shape{ch, 5, w})
			if win, ok := b.window("maxpool", b.Input(), p); ok {
				m := newMaxPool(win)
				m.s3 = m.cx1-m.cx0 >= 8
				checkMaxPool(t, m, n, poolValues(r, ch*(n*5*w+rowPad), []int{0, 200}[r.IntN(2)]), r)
			}
		}
	}
	if fast < 100 {
		t.Fatalf("only %d geometries took the row kernels", fast)
	}
	// The stem's passes allocate nothing.
	b := NewBuilder(Shape{ch, 112, 112})
	win, _ := b.window("maxpool", b.Input(), pools[0])
	m := newMaxPool(win)
	m.s3 = true
	e := execCtx{cap: n}
	x := [][]float32{poolValues(r, ch*e.ld(112*112), 0)}
	out := make([]float32, ch*e.ld(56*56))
	gin := [][]float32{make([]float32, len(x[0]))}
	if a := testing.AllocsPerRun(3, func() {
		m.forward(&e, n, x, out)
		m.backward(&e, n, x, out, out, gin)
	}); a != 0 {
		t.Fatalf("stem pooling: %v allocations", a)
	}
	if hasAVX2 != newMaxPool(win).s3 {
		t.Fatalf("stem pooling: row kernels %v, AVX2 %v", newMaxPool(win).s3, hasAVX2)
	}
}

// checkMaxPool compares m's passes with the reference on input x (channel-major, n images).
func checkMaxPool(t *testing.T, m *maxPool, n int, x []float32, r *rand.Rand) {
	t.Helper()
	e := execCtx{cap: n}
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	ldi, ldo := e.ld(hw), e.ld(ohw)
	for c := range m.in.C {
		for k := c*ldi + n*hw; k < (c+1)*ldi; k++ {
			x[k] = []float32{float32(math.Inf(1)), float32(math.NaN())}[k%2]
		}
	}
	got, want := make([]float32, m.in.C*ldo), make([]float32, m.in.C*ldo)
	m.forward(&e, n, [][]float32{x}, got)
	for c := range m.in.C {
		for b := range n {
			m.plane(want[c*ldo+b*ohw:c*ldo+(b+1)*ohw], x[c*ldi+b*hw:c*ldi+(b+1)*hw])
		}
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%+v: output %d is %v (%#x), want %v (%#x)", m.window, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	// The backward pass takes any outputs: those of the forward pass, and some changed.
	out := append([]float32(nil), want...)
	for i := range out {
		if r.IntN(10) == 0 {
			out[i] = poolValues(r, 1, 3)[0]
		}
	}
	// Gradients hold NaNs of several payloads and infinities too. Which of two NaNs a sum keeps
	// depends on the order the compiler gives its operands (the race detector's build differs),
	// so a value that summed two or more NaNs or infinities (nans, counted by the same pass:
	// ∞ − ∞ makes a NaN) need only be NaN.
	gout := poolValues(r, len(out), 50)
	gin0 := poolValues(r, len(x), 50)
	isNaN := func(v []float32) []float32 {
		c := make([]float32, len(v))
		for i, f := range v {
			if f != f || math.IsInf(float64(f), 0) {
				c[i] = 1
			}
		}
		return c
	}
	for _, o := range [][]float32{want, out} {
		gotG, wantG := append([]float32(nil), gin0...), append([]float32(nil), gin0...)
		m.backward(&e, n, [][]float32{x}, o, gout, [][]float32{gotG})
		refMaxPoolBackward(m, &e, n, [][]float32{x}, o, gout, [][]float32{wantG})
		nans := isNaN(gin0)
		refMaxPoolBackward(m, &e, n, [][]float32{x}, o, isNaN(gout), [][]float32{nans})
		for i := range gotG {
			if math.Float32bits(gotG[i]) != math.Float32bits(wantG[i]) && !(nans[i] >= 2 && gotG[i] != gotG[i] && wantG[i] != wantG[i]) {
				t.Fatalf("%+v: gradient %d is %v (%#x), want %v (%#x)", m.window, i, gotG[i], math.Float32bits(gotG[i]), wantG[i], math.Float32bits(wantG[i]))
			}
		}
	}
}

// TestMaxPool3s2MatchesGo checks the row kernels of 3×3 stride-2 max pooling against their Go
// twins, bit for bit, NaN payloads and signed zeros included, on exactly the 2n+1 values per
// row they may read.
func TestMaxPool3s2MatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for n := 1; n <= 150; n++ {
		for _, nanRate := range []int{0, 0, 300, 20} {
			// Each row ends at an inaccessible page after the 2n+1 values the windows cover, so
			// that a read past them crashes the test.
			var rows [3][]float32
			for i := range rows {
				rows[i] = guardpage.Floats(t, 2*n+1)
				copy(rows[i], poolValues(r, 2*n+1, nanRate))
			}
			if r.IntN(3) == 0 {
				rows[0] = rows[1] // as for a window cut by padding
			}
			got, want := make([]float32, n), make([]float32, n)
			gotNaN := maxPool3s2(got, rows[0], rows[1], rows[2])
			wantNaN := maxPool3s2Go(want, rows[0], rows[1], rows[2])
			if gotNaN != wantNaN {
				t.Fatalf("n %d: NaN %v, Go %v", n, gotNaN, wantNaN)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d: output %d is %v, Go %v", n, i, got[i], want[i])
				}
			}
			v := guardpage.Floats(t, n)
			copy(v, poolValues(r, n, nanRate))
			for i := range v {
				if r.IntN(4) > 0 {
					v[i] = rows[r.IntN(3)][2*i+r.IntN(3)]
				}
			}
			gotI, wantI := make([]int32, n), make([]int32, n)
			maxPoolArg3s2(gotI, v, rows[0], rows[1], rows[2])
			maxPoolArg3s2Go(wantI, v, rows[0], rows[1], rows[2])
			for i := range gotI {
				if gotI[i] != wantI[i] {
					t.Fatalf("n %d: tap %d is %d, Go %d", n, i, gotI[i], wantI[i])
				}
			}
		}
	}
}
