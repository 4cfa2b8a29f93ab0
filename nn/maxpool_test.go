package nn

import (
	"math"
	"math/rand/v2"
	"testing"
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
