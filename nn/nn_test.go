package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func randBN(r *rand.Rand, c int) BatchNorm {
	p := BatchNorm{Gamma: randVec(r, c, 1), Beta: randVec(r, c, 0.5), Mean: randVec(r, c, 0.5), Var: make([]float32, c), Eps: 1e-5}
	for i := range p.Var {
		p.Var[i] = float32(0.5 + r.Float64())
	}
	return p
}

// naiveConv is a direct convolution in float64 on one image (C×H×W).
func naiveConv(x []float32, in Shape, c Conv) ([]float64, Shape) {
	oh := (in.H+2*c.Pad-c.KH)/c.Stride + 1
	ow := (in.W+2*c.Pad-c.KW)/c.Stride + 1
	out := make([]float64, c.Out*oh*ow)
	for co := range c.Out {
		for oy := range oh {
			for ox := range ow {
				var s float64
				if c.Bias != nil {
					s = float64(c.Bias[co])
				}
				for ci := range in.C {
					for i := range c.KH {
						for j := range c.KW {
							iy, ix := oy*c.Stride-c.Pad+i, ox*c.Stride-c.Pad+j
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							s += float64(c.Weight[((co*in.C+ci)*c.KH+i)*c.KW+j]) * float64(x[(ci*in.H+iy)*in.W+ix])
						}
					}
				}
				out[(co*oh+oy)*ow+ox] = s
			}
		}
	}
	return out, Shape{c.Out, oh, ow}
}

func TestConvForwardMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ cin, cout, k, stride, pad, h int }{
		{5, 7, 1, 1, 0, 8}, {4, 12, 3, 1, 1, 8}, {3, 6, 3, 2, 1, 8}, {6, 5, 1, 2, 0, 8},
		{2, 3, 5, 1, 2, 7}, {3, 4, 3, 1, 0, 6}, {4, 4, 2, 2, 0, 6},
		{80, 5, 3, 1, 1, 6}, {8, 90, 3, 1, 1, 5}, // lowered (im2col) paths, too many rows for the direct one
		{5, 7, 3, 1, 1, 16}, {12, 3, 3, 1, 1, 32}, {4, 5, 3, 1, 1, 8}, // Winograd
	}
	for _, tc := range cases {
		in := Shape{tc.cin, tc.h, tc.h}
		c := Conv{Out: tc.cout, KH: tc.k, KW: tc.k, Stride: tc.stride, Pad: tc.pad,
			Weight: randVec(r, tc.cout*tc.cin*tc.k*tc.k, 0.5), Bias: randVec(r, tc.cout, 0.1)}
		b := NewBuilder(in)
		y := b.Conv2d("conv", b.Input(), c)
		b.Tap("conv", y)
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 2, randVec(r, 2*tc.cout, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		const n = 3
		x := randVec(r, n*in.Size(), 1)
		e := g.NewExec(4)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		got, _ := e.Tap("conv", nil)
		for b := range n {
			want, os := naiveConv(x[b*in.Size():], in, c)
			for i, w := range want {
				if d := math.Abs(float64(got[b*os.Size()+i]) - w); d > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%+v image %d element %d: got %v want %v", tc, b, i, got[b*os.Size()+i], w)
				}
			}
		}
	}
}

// layerCase builds input → layer(s) → global pool → linear, returning the graph.
type layerCase struct {
	name  string
	in    Shape
	build func(b *Builder, r *rand.Rand, x Value) Value
}

func layerCases() []layerCase {
	conv := func(r *rand.Rand, cin, cout, k, s, p int) Conv {
		return Conv{Out: cout, KH: k, KW: k, Stride: s, Pad: p, Weight: randVec(r, cout*cin*k*k, 0.4)}
	}
	return []layerCase{
		{"conv1x1", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 4, 5, 1, 1, 0)) }},
		{"conv3x3", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 4, 5, 3, 1, 1)) }},
		{"conv3x3-winograd", Shape{3, 16, 16}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 3, 5, 3, 1, 1)) }},
		{"bnrelu-conv3x3-winograd", Shape{5, 16, 16}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Conv2d("c", b.ReLU(b.BatchNorm("bn", x, randBN(r, 5))), conv(r, 5, 4, 3, 1, 1))
		}},
		{"add-winograd", Shape{3, 8, 16}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Add(x, b.Conv2d("c", x, conv(r, 3, 3, 3, 1, 1)))
		}},
		{"bnrelu-conv3x3-winograd-8px", Shape{5, 8, 8}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Conv2d("c", b.ReLU(b.BatchNorm("bn", x, randBN(r, 5))), conv(r, 5, 4, 3, 1, 1))
		}},
		{"conv3x3-odd-plane", Shape{3, 7, 7}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 3, 4, 3, 1, 1)) }},
		{"conv3x3-lowered", Shape{80, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 80, 80, 3, 1, 1)) }},
		{"conv3x3s2", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 4, 5, 3, 2, 1)) }},
		{"conv1x1s2", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, conv(r, 4, 5, 1, 2, 0)) }},
		{"batchnorm", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.BatchNorm("bn", x, randBN(r, 3)) }},
		{"relu", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.ReLU(x) }},
		{"bnrelu", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.ReLU(b.BatchNorm("bn", x, randBN(r, 3))) }},
		{"bnrelu-conv1x1", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Conv2d("c", b.ReLU(b.BatchNorm("bn", x, randBN(r, 4))), conv(r, 4, 6, 1, 1, 0))
		}},
		{"bnrelu-conv3x3", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Conv2d("c", b.ReLU(b.BatchNorm("bn", x, randBN(r, 4))), conv(r, 4, 6, 3, 1, 1))
		}},
		{"bnrelu-conv3x3s2-and-shortcut", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			h := b.ReLU(b.BatchNorm("bn", x, randBN(r, 4)))
			return b.Add(b.Conv2d("c", h, conv(r, 4, 6, 3, 2, 1)), b.Conv2d("s", h, conv(r, 4, 6, 1, 2, 0)))
		}},
		{"avgpool", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.AvgPool(x, 2) }},
		{"transition", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			// Pooled before its product (poolFirst), after a concatenation whose gradient
			// accumulates from two consumers.
			h := b.Concat(x, b.Conv2d("c0", x, conv(r, 4, 2, 3, 1, 1)))
			t := b.AvgPool(b.Conv2d("c", b.ReLU(b.BatchNorm("bn", h, randBN(r, 6))), conv(r, 6, 3, 1, 1, 0)), 2)
			return b.Concat(t, b.AvgPool(h, 2))
		}},
		{"dense-layer-winograd", Shape{4, 8, 16}, func(b *Builder, r *rand.Rand, x Value) Value {
			// DenseNet's bottleneck: the 3×3 convolution owns its input's gradient (gradStore).
			h := b.Conv2d("c1", b.ReLU(b.BatchNorm("bn1", x, randBN(r, 4))), conv(r, 4, 6, 1, 1, 0))
			y := b.Conv2d("c3", b.ReLU(b.BatchNorm("bn3", h, randBN(r, 6))), conv(r, 6, 3, 3, 1, 1))
			return b.Concat(x, y)
		}},
		{"conv1x1-bias-avgpool3", Shape{3, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			c := conv(r, 3, 4, 1, 1, 0)
			c.Bias = randVec(r, 4, 1)
			return b.AvgPool(b.Conv2d("c", x, c), 3)
		}},
		{"add", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Add(x, b.Conv2d("c", x, conv(r, 3, 3, 3, 1, 1)))
		}},
		{"concat-chain", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value {
			h := b.Conv2d("c0", x, conv(r, 3, 4, 3, 1, 1))
			for i := range 3 {
				y := b.Conv2d("c", b.ReLU(b.BatchNorm("bn", h, randBN(r, 4+2*i))), conv(r, 4+2*i, 2, 3, 1, 1))
				h = b.Concat(h, y)
			}
			return h
		}},
		{"concat-input", Shape{3, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Concat(x, b.ReLU(x), x) }},
		{"shortcutA", Shape{4, 4, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.ShortcutA(x, 8) }},
	}
}

// TestInputGradients checks each layer's input gradient against central finite differences of
// a random linear function of the logits.
func TestInputGradients(t *testing.T) {
	for _, tc := range layerCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			b := NewBuilder(tc.in)
			y := tc.build(b, r, b.Input())
			c := b.Shape(y).C
			g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 3, randVec(r, 3*c, 1), randVec(r, 3, 1)))
			if err != nil {
				t.Fatal(err)
			}
			checkInputGradient(t, g, r)
		})
	}
}

// TestPoolDeterministic checks bit-identical results for any worker count and micro-batch size,
// on 6×6 planes (direct convolutions) and 8×8 and 8×16 ones (Winograd, whose chunks then span
// images).
func TestPoolDeterministic(t *testing.T) {
	for _, in := range []Shape{{3, 6, 6}, {3, 8, 8}, {3, 8, 16}} {
		t.Run(in.String(), func(t *testing.T) { testPoolDeterministic(t, in) })
	}
}

func testPoolDeterministic(t *testing.T, in Shape) {
	r := rand.New(rand.NewPCG(5, 6))
	b := NewBuilder(in)
	h := b.Conv2d("c0", b.Input(), Conv{Out: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 6*3*9, 0.3)})
	for i := range 3 {
		y := b.Conv2d("c", b.ReLU(b.BatchNorm("bn", h, randBN(r, 6+4*i))), Conv{Out: 4, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 4*(6+4*i)*9, 0.3)})
		h = b.Concat(h, y)
	}
	// A bottleneck (gemm.MulGrad backwards) and a transition (pooled before its product).
	h = b.Concat(h, b.Conv2d("b", b.ReLU(b.BatchNorm("bnb", h, randBN(r, 18))), Conv{Out: 6, KH: 1, KW: 1, Stride: 1, Weight: randVec(r, 6*18, 0.3)}))
	h = b.AvgPool(b.Conv2d("t", b.ReLU(b.BatchNorm("bnt", h, randBN(r, 24))), Conv{Out: 18, KH: 1, KW: 1, Stride: 1, Weight: randVec(r, 18*24, 0.3)}), 2)
	g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.ReLU(h)), 5, randVec(r, 5*18, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	checkDeterministic(t, g, randVec(r, 13*in.Size(), 1), 13, [][2]int{{2, 4}, {2, 1}, {3, 5}, {1, 13}})
}

// checkDeterministic runs g forward and backward (from its logits) on the n images x with one
// worker and micro-batches of 4, then with each {workers, batch} of others, and requires
// bit-identical logits and input gradients.
func checkDeterministic(t *testing.T, g *Graph, x []float32, n int, others [][2]int) {
	t.Helper()
	in, k := g.Input(), g.Classes()
	run := func(workers, batch int) ([]float32, []float32) {
		p := NewPool(g, workers, batch)
		logits := make([]float32, n*k)
		grads := make([]float32, n*in.Size())
		err := p.Run(context.Background(), n, func(e *Exec, _, lo, hi int) error {
			if err := e.Forward(x[lo*in.Size():hi*in.Size()], hi-lo); err != nil {
				return err
			}
			l := e.Logits(logits[lo*k : lo*k])
			_, err := e.Backward("", l, grads[lo*in.Size():lo*in.Size()])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return logits, grads
	}
	l1, g1 := run(1, 4)
	for _, wb := range others {
		l2, g2 := run(wb[0], wb[1])
		for i := range l1 {
			if l1[i] != l2[i] {
				t.Fatalf("workers %d batch %d: logit %d differs: %v vs %v", wb[0], wb[1], i, l1[i], l2[i])
			}
		}
		for i := range g1 {
			if g1[i] != g2[i] {
				t.Fatalf("workers %d batch %d: gradient %d differs", wb[0], wb[1], i)
			}
		}
	}
}

// TestPoolFirst checks that a transition (batch norm, ReLU, 1×1 convolution, average pool) is
// rewritten to pool before its product, and that the rewritten graph computes what the graph
// does unrewritten: the same network with the convolution's output tapped, which keeps it.
func TestPoolFirst(t *testing.T) {
	in := Shape{6, 8, 8}
	build := func(tap bool) *Graph {
		r := rand.New(rand.NewPCG(7, 8))
		b := NewBuilder(in)
		c := Conv{Out: 5, KH: 1, KW: 1, Stride: 1, Weight: randVec(r, 5*6, 0.4), Bias: randVec(r, 5, 0.2)}
		y := b.Conv2d("c", b.ReLU(b.BatchNorm("bn", b.Input(), randBN(r, 6))), c)
		if tap {
			b.Tap("conv", y)
		}
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.AvgPool(y, 2)), 3, randVec(r, 15, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	rewritten, kept := build(false), build(true)
	pooled := 0
	for _, st := range rewritten.plan.steps {
		if p, ok := st.op.(*avgPool); ok && p.pre != nil {
			pooled++
		}
		if c, ok := st.op.(*conv); ok && (c.in != Shape{6, 4, 4} || c.pre != nil) {
			t.Errorf("rewritten convolution reads %v (fused normalisation %v), want 6×4×4 without", c.in, c.pre != nil)
		}
	}
	for _, st := range kept.plan.steps {
		if p, ok := st.op.(*avgPool); ok && p.pre != nil {
			t.Error("a tapped convolution output was rewritten")
		}
	}
	if pooled != 1 {
		t.Fatalf("%d normalising pools in the rewritten plan, want 1", pooled)
	}
	const n = 3
	r := rand.New(rand.NewPCG(9, 9))
	x := randVec(r, n*in.Size(), 1)
	w := randVec(r, n*3, 1)
	var logits, grads [2][]float32
	for i, g := range []*Graph{rewritten, kept} {
		e := g.NewExec(4)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		logits[i] = e.Logits(nil)
		var err error
		if grads[i], err = e.Backward("", w, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range logits[0] {
		if d := math.Abs(float64(logits[0][i] - logits[1][i])); d > 1e-5 {
			t.Errorf("logit %d: %v rewritten, %v kept", i, logits[0][i], logits[1][i])
		}
	}
	for i := range grads[0] {
		if d := math.Abs(float64(grads[0][i] - grads[1][i])); d > 1e-5 {
			t.Errorf("gradient %d: %v rewritten, %v kept", i, grads[0][i], grads[1][i])
		}
	}
}

// TestGradientOwners checks that the 3×3 convolution of a DenseNet bottleneck overwrites its
// input's gradient (which then is not cleared) and gets the same input gradient on a second
// backward pass, and that a backward pass from a tap, after one from the logits, gets what a
// fresh executor gets.
func TestGradientOwners(t *testing.T) {
	in := Shape{4, 8, 16}
	// The bottleneck, with its 1×1 output h tapped or not; a tapped value is external, so only
	// the untapped network's 3×3 convolution owns h's gradient.
	build := func(tap bool) *Graph {
		r := rand.New(rand.NewPCG(12, 13))
		b := NewBuilder(in)
		x := b.Input()
		h := b.Conv2d("c1", b.ReLU(b.BatchNorm("bn1", x, randBN(r, 4))), Conv{Out: 6, KH: 1, KW: 1, Stride: 1, Weight: randVec(r, 24, 0.4)})
		if tap {
			b.Tap("h", h)
		}
		y := b.Conv2d("c3", b.ReLU(b.BatchNorm("bn3", h, randBN(r, 6))), Conv{Out: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 3*6*9, 0.4)})
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.Concat(x, y)), 3, randVec(r, 21, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	owners := func(g *Graph) int {
		k := 0
		for _, st := range g.plan.steps {
			if c, ok := st.op.(*conv); ok && c.gradStore {
				k++
			}
		}
		return k
	}
	g, g2 := build(true), build(false)
	if a, b := owners(g), owners(g2); a != 0 || b != 1 {
		t.Fatalf("%d owning convolutions with the value tapped, %d without; want 0 and 1", a, b)
	}

	r := rand.New(rand.NewPCG(14, 15))
	const n = 2
	xs := randVec(r, n*in.Size(), 1)
	w := randVec(r, n*3, 1)
	gh := randVec(r, n*6*8*16, 1)
	e := g2.NewExec(n)
	if err := e.Forward(xs, n); err != nil {
		t.Fatal(err)
	}
	first, err := e.Backward("", w, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Again on the same executor, whose owned buffers now hold the first pass's values.
	again, err := e.Backward("", w, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("second backward pass differs at %d: %v vs %v", i, again[i], first[i])
		}
	}
	// From a tap on the network with the tap, after a backward pass from the logits: the same
	// as on a fresh executor.
	e1 := g.NewExec(n)
	e1.Forward(xs, n)
	e1.Backward("", w, nil)
	fromTap, err := e1.Backward("h", gh, nil)
	if err != nil {
		t.Fatal(err)
	}
	e2 := g.NewExec(n)
	e2.Forward(xs, n)
	fresh, _ := e2.Backward("h", gh, nil)
	for i := range fresh {
		if fresh[i] != fromTap[i] {
			t.Fatalf("backward from a tap differs at %d: %v vs %v on a fresh executor", i, fromTap[i], fresh[i])
		}
	}
}
