package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// back2Case is a depthwise layer whose backward pass runs through depthwiseBackRows.
type back2Case struct {
	c, mult, h, w, kh, sh, dh, dw int
	pads                          []int // top, left, bottom, right
}

var back2Cases = []back2Case{
	{2, 1, 112, 112, 3, 2, 1, 1, []int{1, 1, 1, 1}}, // MobileNetV2's 112→56
	{3, 1, 56, 56, 3, 2, 1, 1, []int{1, 1, 1, 1}},
	{3, 1, 28, 28, 3, 2, 1, 1, []int{1, 1, 1, 1}},
	{4, 1, 14, 14, 3, 2, 1, 1, []int{1, 1, 1, 1}},
	{3, 1, 15, 15, 3, 2, 1, 1, []int{1, 1, 1, 1}}, // odd width: 15→8
	{3, 1, 15, 15, 3, 2, 1, 1, []int{0, 0, 0, 0}}, // no padding: 15→7
	{3, 1, 16, 16, 3, 2, 1, 1, []int{0, 0, 1, 1}}, // TensorFlow's SAME: right and bottom only
	{2, 2, 33, 37, 3, 2, 1, 1, []int{2, 3, 1, 0}}, // two outputs per channel, uneven pads
	{2, 1, 40, 40, 3, 2, 2, 2, []int{2, 2, 2, 2}}, // dilated
	{2, 1, 17, 31, 3, 2, 1, 3, []int{1, 4, 1, 4}}, // odd dilation across: taps of both parities
	{2, 1, 9, 19, 5, 1, 1, 1, []int{2, 1, 2, 1}},  // 5 kernel rows, vertical stride 1
	{2, 1, 9, 19, 1, 3, 1, 1, []int{0, 1, 0, 1}},  // one kernel row, vertical stride 3
	{2, 1, 3, 3, 3, 2, 1, 1, []int{1, 1, 1, 1}},   // two output columns and rows
	{2, 1, 2, 40, 3, 2, 1, 1, []int{1, 1, 1, 1}},  // kernel rows outside the plane
	{2, 1, 4, 1, 3, 2, 1, 1, []int{1, 1, 1, 1}},   // one input column
	{2, 1, 30, 20, 3, 4, 2, 1, []int{3, 1, 3, 1}}, // rows carried at a dilation of 2
	{2, 1, 10, 18, 3, 2, 1, 1, []int{4, 1, 4, 1}}, // the first two output rows partly outside
}

// layer builds the convolution, with weights that include a zero, a negative zero and, when
// wild, infinities and NaNs (whose products with the spread's zeros are NaN, and whose payloads
// against a NaN gradient's show the operand order).
func (k back2Case) layer(t testing.TB, r *rand.Rand, wild bool) *gconv {
	t.Helper()
	out := k.c * k.mult
	w := randVec(r, out*k.kh*3, 1)
	w[0], w[len(w)-1] = 0, float32(math.Copysign(0, -1))
	if wild && len(w) > 6 {
		w[1], w[2] = float32(math.Inf(1)), float32(math.Inf(-1))
		w[3], w[4], w[5] = math.Float32frombits(0x7fa12345), math.Float32frombits(0xffc54321), math.Float32frombits(0x7fc00abc)
	}
	b := NewBuilder(Shape{k.c, k.h, k.w})
	v := b.Conv2d("dw", b.Input(), Conv{Out: out, KH: k.kh, KW: 3, Stride: k.sh, StrideW: 2,
		DilH: k.dh, DilW: k.dw, Groups: k.c, Weight: w, Pads: k.pads})
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	g := b.nodes[v.id].op.(*gconv)
	if g.backFlipped() || g.sw != 2 {
		t.Fatalf("%+v does not take depthwiseBackRows", k)
	}
	return g
}

// back2Values fills v with gradients: normal values, subnormals, ±0, ±Inf and NaNs with
// payloads (quiet and signalling), at about rate specials per 16.
func back2Values(r *rand.Rand, v []float32, specials int) {
	for i := range v {
		x := float32(r.NormFloat64())
		if r.IntN(16) < specials {
			switch r.IntN(7) {
			case 0:
				x = math.Float32frombits(0x7fc00000 | r.Uint32()&0x3fffff | r.Uint32()&0x80000000)
			case 1:
				x = math.Float32frombits(0x7f800001 | r.Uint32()&0x3fffff)
			case 2:
				x = float32(math.Inf(1 - 2*r.IntN(2)))
			case 3:
				x = 0
			case 4:
				x = float32(math.Copysign(0, -1))
			case 5:
				x = math.Float32frombits(r.Uint32() & 0x807fffff) // subnormal
			default:
				x = 1e-30 * x
			}
		}
		v[i] = x
	}
}

// back2Both runs depthwiseBackRows with the kernel and with its own loop (dwRows) on copies
// of gin, and fails on the first element whose bits differ, padding between planes included.
func back2Both(t *testing.T, g *gconv, k back2Case, n int, gout, gin []float32, ldo, ldi int) {
	t.Helper()
	_, tile := g.padScratch(n)
	x := &execCtx{cap: n, tile: make([]float32, tile)}
	want := append([]float32(nil), gin...)
	back2Off = true
	g.depthwiseBackRows(x, n, gout, ldo, want, ldi)
	back2Off = false
	g.depthwiseBackRows(x, n, gout, ldo, gin, ldi)
	for i := range gin {
		if math.Float32bits(gin[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%+v, %d images: input gradient %d is %v (%#x), depthwiseBackRows's loop %v (%#x)",
				k, n, i, gin[i], math.Float32bits(gin[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestDepthwiseBack2MatchesRows checks the stride-2 backward kernel against depthwiseBackRows's
// own loop, bit for bit, on gradients with NaN payloads, signed zeros, infinities and
// subnormals, over MobileNet's planes, odd widths, uneven and no padding, dilation and other
// kernel heights: both kernels (rows carried or not) and the rows around the carried ones.
func TestDepthwiseBack2MatchesRows(t *testing.T) {
	if !back2Kernel() {
		t.Skip("no stride-2 backward kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(91, 92))
	for _, k := range back2Cases {
		for _, specials := range []int{0, 2, 8} {
			g := k.layer(t, r, specials == 8)
			n := 1 + r.IntN(3)
			hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
			ldi, ldo := n*hw+rowPad, n*ohw+rowPad
			gout, gin := make([]float32, g.cout*ldo), make([]float32, g.cin*ldi)
			back2Values(r, gout, specials)
			back2Values(r, gin, specials)
			back2Both(t, g, k, n, gout, gin, ldo, ldi)
		}
	}
}

// TestDepthwiseBack2GuardPage runs the kernel on layers whose gradient and input gradient
// (packed without padding) start right after, or end right before, an inaccessible page, so that
// a read or write outside them crashes the test (dwGuarded; internal/guardpage holds one page).
func TestDepthwiseBack2GuardPage(t *testing.T) {
	if !back2Kernel() {
		t.Skip("no stride-2 backward kernel on this CPU or build")
	}
	r := rand.New(rand.NewPCG(93, 94))
	for _, k := range back2Cases {
		for _, atStart := range []bool{false, true} {
			g := k.layer(t, r, false)
			n := 2
			hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
			gout, gin := dwGuarded(t, g.cout*n*ohw, atStart), dwGuarded(t, g.cin*n*hw, atStart)
			back2Values(r, gout, 2)
			back2Values(r, gin, 2)
			back2Both(t, g, k, n, gout, gin, n*ohw, n*hw)
		}
	}
}
