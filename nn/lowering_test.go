package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestStridedConvBands checks strided convolutions large enough to be lowered in bands of output
// rows: the forward pass against the naive convolution, and the backward pass as its adjoint,
// ⟨conv(x) − bias, g⟩ = ⟨x, convᵀ(g)⟩.
func TestStridedConvBands(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 43))
	for _, tc := range []struct{ cin, cout, k, stride, pad, h int }{
		{3, 8, 7, 2, 3, 96}, // an ImageNet stem, smaller
		{64, 6, 3, 2, 1, 56},
	} {
		in := Shape{tc.cin, tc.h, tc.h}
		c := Conv{Out: tc.cout, KH: tc.k, KW: tc.k, Stride: tc.stride, Pad: tc.pad,
			Weight: randVec(r, tc.cout*tc.cin*tc.k*tc.k, 0.3), Bias: randVec(r, tc.cout, 0.1)}
		b := NewBuilder(in)
		y := b.Conv2d("conv", b.Input(), c)
		b.Tap("conv", y)
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 2, randVec(r, 2*tc.cout, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		cv := g.plan.steps[0].op.(*conv)
		if _, band := cv.lowering(4); band >= cv.out.H {
			t.Fatalf("%+v: lowered whole (band %d of %d rows)", tc, band, cv.out.H)
		}
		const n = 2
		x := randVec(r, n*in.Size(), 1)
		e := g.NewExec(4)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		got, _ := e.Tap("conv", nil)
		os := cv.out
		for bi := range n {
			want, _ := naiveConv(x[bi*in.Size():], in, c)
			for i, w := range want {
				if d := math.Abs(float64(got[bi*os.Size()+i]) - w); d > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%+v image %d element %d: got %v want %v", tc, bi, i, got[bi*os.Size()+i], w)
				}
			}
		}
		gy := randVec(r, n*os.Size(), 1)
		gx, err := e.Backward("conv", gy, nil)
		if err != nil {
			t.Fatal(err)
		}
		var lhs, rhs float64
		for i, v := range gy {
			lhs += (float64(got[i]) - float64(c.Bias[i/(os.H*os.W)%os.C])) * float64(v)
		}
		for i, v := range gx {
			rhs += float64(x[i]) * float64(v)
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Fatalf("%+v: ⟨y, g⟩ = %v but ⟨x, ∇⟩ = %v", tc, lhs, rhs)
		}
	}
}
