package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveConvG is a direct grouped, dilated, asymmetrically padded convolution in float64 on one
// image, for checking the general path.
func naiveConvG(x []float32, in Shape, c Conv) ([]float64, Shape) {
	c, _ = c.normalize()
	pads := c.Pads
	if pads == nil {
		pads = []int{c.Pad, c.Pad, c.Pad, c.Pad}
	}
	oh := (in.H+pads[0]+pads[2]-c.DilH*(c.KH-1)-1)/c.Stride + 1
	ow := (in.W+pads[1]+pads[3]-c.DilW*(c.KW-1)-1)/c.StrideW + 1
	cig, cog := in.C/c.Groups, c.Out/c.Groups
	out := make([]float64, c.Out*oh*ow)
	for co := range c.Out {
		g := co / cog
		for oy := range oh {
			for ox := range ow {
				var s float64
				if c.Bias != nil {
					s = float64(c.Bias[co])
				}
				for k := range cig {
					ci := g*cig + k
					for i := range c.KH {
						for j := range c.KW {
							iy, ix := oy*c.Stride-pads[0]+i*c.DilH, ox*c.StrideW-pads[1]+j*c.DilW
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							s += float64(c.Weight[((co*cig+k)*c.KH+i)*c.KW+j]) * float64(x[(ci*in.H+iy)*in.W+ix])
						}
					}
				}
				out[(co*oh+oy)*ow+ox] = s
			}
		}
	}
	return out, Shape{c.Out, oh, ow}
}

func generalConvCases(r *rand.Rand) []struct {
	in Shape
	c  Conv
} {
	mk := func(cin, cout, kh, kw, groups int, c Conv) Conv {
		c.Out, c.KH, c.KW, c.Groups = cout, kh, kw, groups
		if c.Stride == 0 {
			c.Stride = 1
		}
		c.Weight = randVec(r, cout*cin/groups*kh*kw, 0.4)
		c.Bias = randVec(r, cout, 0.1)
		return c
	}
	return []struct {
		in Shape
		c  Conv
	}{
		{Shape{6, 9, 9}, mk(6, 6, 3, 3, 6, Conv{Pad: 1})},                   // depthwise 3×3
		{Shape{6, 9, 8}, mk(6, 6, 3, 3, 6, Conv{Stride: 2, Pad: 1})},        // depthwise stride 2
		{Shape{4, 11, 11}, mk(4, 8, 5, 5, 4, Conv{Stride: 2, Pad: 2})},      // depthwise, multiplier 2
		{Shape{3, 10, 10}, mk(3, 3, 7, 7, 3, Conv{Pad: 3})},                 // ConvNeXt's 7×7
		{Shape{8, 7, 7}, mk(8, 6, 3, 3, 2, Conv{Pad: 1})},                   // grouped
		{Shape{8, 8, 8}, mk(8, 8, 3, 3, 4, Conv{Stride: 2, Pad: 1})},        // grouped stride 2
		{Shape{3, 9, 9}, mk(3, 4, 3, 3, 1, Conv{Pad: 2, DilH: 2, DilW: 2})}, // dilated
		{Shape{3, 8, 9}, mk(3, 4, 3, 2, 1, Conv{Pads: []int{0, 1, 2, 0}})},  // asymmetric, rectangular
		{Shape{3, 8, 9}, mk(3, 4, 1, 7, 1, Conv{Pads: []int{0, 3, 0, 3}})},  // Inception's 1×7
		{Shape{3, 9, 9}, mk(3, 4, 3, 3, 1, Conv{Stride: 2, StrideW: 1, Pad: 1})},
		{Shape{4, 9, 9}, mk(4, 4, 3, 3, 4, Conv{Pads: []int{0, 0, 1, 1}, Stride: 2})}, // TF-style SAME depthwise
		{Shape{5, 10, 9}, mk(5, 5, 3, 3, 5, Conv{Pad: 2, DilH: 2, DilW: 2})},          // dilated depthwise
		{Shape{3, 8, 21}, mk(3, 3, 3, 5, 3, Conv{Pads: []int{1, 2, 0, 1}})},           // asymmetric depthwise, flipped backward
		{Shape{3, 7, 7}, mk(3, 3, 3, 3, 3, Conv{Pads: []int{0, 0, 0, 0}})},            // valid depthwise, scattered backward
	}
}

func TestGeneralConvMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for k, tc := range generalConvCases(r) {
		b := NewBuilder(tc.in)
		y := b.Conv2d("conv", b.Input(), tc.c)
		b.Tap("conv", y)
		g, err := b.Build(b.GlobalAvgPool(y))
		if err != nil {
			t.Fatal(err)
		}
		const n = 3
		x := randVec(r, n*tc.in.Size(), 1)
		e := g.NewExec(4)
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		got, _ := e.Tap("conv", nil)
		for b := range n {
			want, os := naiveConvG(x[b*tc.in.Size():], tc.in, tc.c)
			if os != b2s(g.Taps()["conv"]) {
				t.Fatalf("case %d: shape %v, want %v", k, g.Taps()["conv"], os)
			}
			for i, w := range want {
				if d := math.Abs(float64(got[b*os.Size()+i]) - w); d > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("case %d image %d element %d: got %v want %v", k, b, i, got[b*os.Size()+i], w)
				}
			}
		}
	}
}

func b2s(s Shape) Shape { return s }

// onnxCases are the layers of conv_general.go, elementwise.go, pool2d.go, norm.go and
// shape_ops.go, each in a small network.
func onnxCases() []layerCase {
	cs := []layerCase{}
	for i, tc := range generalConvCases(rand.New(rand.NewPCG(23, 24))) {
		c := tc.c
		cs = append(cs, layerCase{"gconv" + string(rune('a'+i)), tc.in, func(b *Builder, r *rand.Rand, x Value) Value { return b.Conv2d("c", x, c) }})
	}
	un := func(name string, f func(b *Builder, x Value) Value) layerCase {
		return layerCase{name, Shape{3, 4, 5}, func(b *Builder, r *rand.Rand, x Value) Value { return f(b, x) }}
	}
	return append(cs,
		un("leakyrelu", func(b *Builder, x Value) Value { return b.LeakyReLU(x, 0.1) }),
		un("relu6", func(b *Builder, x Value) Value { return b.Clip(x, 0, 0.8) }),
		un("sigmoid", func(b *Builder, x Value) Value { return b.Sigmoid(x) }),
		un("hardsigmoid", func(b *Builder, x Value) Value {
			return b.HardSigmoid(b.Mul(x, b.Const(Shape{1, 1, 1}, []float32{4})), 1.0/6, 0.5)
		}),
		un("hardswish", func(b *Builder, x Value) Value { return b.HardSwish(b.Mul(x, b.Const(Shape{1, 1, 1}, []float32{4}))) }),
		un("tanh", func(b *Builder, x Value) Value { return b.Tanh(x) }),
		un("erf", func(b *Builder, x Value) Value { return b.Erf(x) }),
		un("gelu", func(b *Builder, x Value) Value { return b.GELU(x) }),
		un("sqrt-pow", func(b *Builder, x Value) Value {
			return b.Sqrt(b.Add(b.Pow(x, 2), b.Const(Shape{1, 1, 1}, []float32{0.5})))
		}),
		un("pow3", func(b *Builder, x Value) Value { return b.Pow(x, 3) }),
		un("mul-same", func(b *Builder, x Value) Value { return b.Mul(x, b.Tanh(x)) }),
		un("mul-self", func(b *Builder, x Value) Value { return b.Mul(x, x) }),
		un("se-gate", func(b *Builder, x Value) Value { return b.Mul(x, b.Sigmoid(b.GlobalAvgPool(x))) }),
		un("sub-meanc", func(b *Builder, x Value) Value { return b.Sub(x, b.MeanC(x)) }),
		un("div-broadcast", func(b *Builder, x Value) Value {
			return b.Div(x, b.Add(b.Sigmoid(b.MeanC(x)), b.Const(Shape{1, 1, 1}, []float32{0.5})))
		}),
		un("div-const-first", func(b *Builder, x Value) Value {
			return b.Div(b.Const(Shape{3, 1, 1}, []float32{1, 2, 3}), b.Add(b.Sigmoid(x), b.Const(Shape{1, 1, 1}, []float32{0.5})))
		}),
		un("sub-row", func(b *Builder, x Value) Value { return b.Sub(b.Slice(x, 1, 0, 1, 1), x) }),
		un("add-broadcast", func(b *Builder, x Value) Value {
			return b.Add(b.Const(Shape{3, 1, 5}, make([]float32, 15)), b.Mul(x, b.Slice(x, 2, 1, 2, 1)))
		}),
		un("layernorm-decomposed", func(b *Builder, x Value) Value {
			d := b.Sub(x, b.MeanC(x))
			v := b.Add(b.MeanC(b.Pow(d, 2)), b.Const(Shape{1, 1, 1}, []float32{1e-6}))
			return b.Add(b.Mul(b.Div(d, b.Sqrt(v)), b.Const(Shape{3, 1, 1}, []float32{1, -2, 0.5})), b.Const(Shape{3, 1, 1}, []float32{0, 1, 2}))
		}),
		layerCase{"conv-relu6-fused", Shape{3, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			c := Conv{Out: 4, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 4*3*9, 0.5), Bias: randVec(r, 4, 0.5)}
			return b.Clip(b.Conv2d("c", x, c), 0, 0.5)
		}},
		layerCase{"dw-relu6-fused", Shape{4, 6, 6}, func(b *Builder, r *rand.Rand, x Value) Value {
			c := Conv{Out: 4, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 4, Weight: randVec(r, 4*9, 0.5), Bias: randVec(r, 4, 0.5)}
			return b.Clip(b.Conv2d("c", x, c), 0, 0.5)
		}},
		layerCase{"conv1x1-relu-fused", Shape{4, 5, 5}, func(b *Builder, r *rand.Rand, x Value) Value {
			c := Conv{Out: 4, KH: 1, KW: 1, Stride: 1, Weight: randVec(r, 16, 0.5), Bias: randVec(r, 4, 0.5)}
			return b.ReLU(b.Conv2d("c", x, c))
		}},
		layerCase{"add-relu-fused", Shape{3, 4, 5}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.ReLU(b.Add(x, b.Tanh(x)))
		}},
		layerCase{"layernorm", Shape{5, 3, 4}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.LayerNormC("ln", x, randVec(r, 5, 1), randVec(r, 5, 1), 1e-6)
		}},
		layerCase{"maxpool", Shape{3, 7, 7}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.MaxPool(x, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}})
		}},
		layerCase{"maxpool-ceil", Shape{3, 8, 8}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.MaxPool(x, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
		}},
		layerCase{"maxpool-dilated", Shape{3, 8, 8}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.MaxPool(x, Pool2D{KH: 2, KW: 2, DilH: 2, DilW: 2, Pads: []int{0, 1, 1, 0}})
		}},
		layerCase{"avgpool-include", Shape{3, 7, 7}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.AvgPool2d(x, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}, CountIncludePad: true, CeilMode: true})
		}},
		layerCase{"avgpool-exclude", Shape{3, 7, 7}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.AvgPool2d(x, Pool2D{KH: 3, KW: 2, StrideH: 1, StrideW: 2, Pads: []int{1, 0, 1, 1}})
		}},
		layerCase{"split-shuffle", Shape{6, 3, 3}, func(b *Builder, r *rand.Rand, x Value) Value {
			p := b.Split(x, 2, 4)
			return b.ChannelShuffle(b.Concat(b.Tanh(p[1]), p[0]), 2)
		}},
		layerCase{"slice-hw", Shape{3, 6, 7}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Slice(b.Slice(x, 1, 1, 6, 2), 2, 0, 5, 3)
		}},
		layerCase{"pad-constant", Shape{2, 3, 4}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Tanh(b.Pad(x, [4]int{1, 2, 0, 1}, "constant", 0.5))
		}},
		layerCase{"pad-reflect", Shape{2, 3, 4}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Tanh(b.Pad(x, [4]int{2, 1, 1, 3}, "reflect", 0))
		}},
		layerCase{"pad-edge", Shape{2, 3, 4}, func(b *Builder, r *rand.Rand, x Value) Value { return b.Tanh(b.Pad(x, [4]int{2, 1, 1, 3}, "edge", 0)) }},
		layerCase{"flatten", Shape{2, 3, 2}, func(b *Builder, r *rand.Rand, x Value) Value {
			return b.Linear("fc0", b.Flatten(b.Tanh(x)), 4, randVec(r, 4*12, 1), nil)
		}},
	)
}

// TestONNXOpGradients checks the input gradient of each layer against central differences
// (checkInputGradient), as TestInputGradients does for the original layers.
func TestONNXOpGradients(t *testing.T) {
	for _, tc := range onnxCases() {
		t.Run(tc.name, func(t *testing.T) { checkGradient(t, tc) })
	}
}

func checkGradient(t *testing.T, tc layerCase) {
	r := rand.New(rand.NewPCG(3, 4))
	b := NewBuilder(tc.in)
	y := tc.build(b, r, b.Input())
	s := b.Shape(y)
	// A per-pixel weighting before the pool, so that gradients of planar permutations and pools
	// are not uniform.
	wmap := b.Const(s, randVec(r, s.Size(), 1))
	g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.Mul(y, wmap)), 3, randVec(r, 3*s.C, 1), randVec(r, 3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	checkInputGradient(t, g, r)
}

// checkInputGradient compares g's input gradient of a random weighting of its logits, on two
// random images, with central differences in float32 arithmetic: a wide step is accurate unless
// it crosses a kink (ReLU, max, clip), a narrow one is noisy. An element passes if either
// agrees; a wrong gradient misses both by far more than these tolerances.
func checkInputGradient(t *testing.T, g *Graph, r *rand.Rand) {
	t.Helper()
	const n = 2
	x := randVec(r, n*g.Input().Size(), 1)
	w := randVec(r, n*3, 1)
	e := g.NewExec(3)
	loss := func(x []float32) float64 {
		if err := e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range e.Logits(nil) {
			s += float64(v) * float64(w[i])
		}
		return s
	}
	loss(x)
	grad, err := e.Backward("", w, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gmax float64
	for _, v := range grad {
		gmax = max(gmax, math.Abs(float64(v)))
	}
	if gmax == 0 {
		t.Fatal("zero gradient")
	}
	fd := func(i int, h float32) float64 {
		old := x[i]
		x[i] = old + h
		up := loss(x)
		x[i] = old - h
		down := loss(x)
		x[i] = old
		return (up - down) / (2 * float64(h))
	}
	for range 40 {
		i := r.IntN(len(x))
		wide, narrow := fd(i, 1e-2), fd(i, 2e-3)
		dw, dn := math.Abs(wide-float64(grad[i])), math.Abs(narrow-float64(grad[i]))
		if dw > 2e-3*gmax+1e-4 && dn > 1e-2*gmax+1e-4 {
			t.Errorf("element %d: gradient %v, finite differences %v and %v", i, grad[i], wide, narrow)
		}
	}
}

// TestONNXOpsDeterministic checks that a network of the new layers gives bit-identical logits
// and input gradients for any worker count and micro-batch size.
func TestONNXOpsDeterministic(t *testing.T) {
	in := Shape{4, 9, 9}
	r := rand.New(rand.NewPCG(31, 32))
	b := NewBuilder(in)
	x := b.Input()
	h := b.Conv2d("dw", x, Conv{Out: 8, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 4, Weight: randVec(r, 8*9, 0.4)})
	h = b.Clip(h, 0, 6)
	h = b.Conv2d("g", h, Conv{Out: 8, KH: 3, KW: 3, Stride: 1, Pads: []int{1, 0, 1, 2}, Groups: 2, Weight: randVec(r, 8*4*9, 0.3)})
	h = b.Mul(h, b.Sigmoid(b.GlobalAvgPool(h)))
	h = b.LayerNormC("ln", h, randVec(r, 8, 1), randVec(r, 8, 1), 1e-6)
	h = b.MaxPool(b.GELU(h), Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
	h = b.ChannelShuffle(h, 2)
	h = b.AvgPool2d(b.HardSwish(h), Pool2D{KH: 2, KW: 2, Pads: []int{1, 1, 0, 0}})
	g, err := b.Build(b.Linear("fc", b.Flatten(h), 5, randVec(r, 5*b.Shape(h).Size(), 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	checkDeterministic(t, g, randVec(r, 11*in.Size(), 1), 11, [][2]int{{2, 3}, {2, 1}, {1, 11}})
}

// TestPoolShapes checks output sizes against PyTorch's rule, including a ceil-mode window that
// would start in the padding and is dropped.
func TestPoolShapes(t *testing.T) {
	cases := []struct {
		in   int
		p    Pool2D
		want int
	}{
		{112, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}}, 56},              // ResNet
		{111, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true}, 55},                       // SqueezeNet
		{112, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, CeilMode: true}, 56},                       // GoogLeNet
		{5, Pool2D{KH: 2, KW: 2, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}, CeilMode: true}, 3}, // last window dropped
	}
	for _, tc := range cases {
		b := NewBuilder(Shape{1, tc.in, tc.in})
		y := b.MaxPool(b.Input(), tc.p)
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		if s := b.Shape(y); s.H != tc.want || s.W != tc.want {
			t.Errorf("%d %+v: got %v, want %d", tc.in, tc.p, s, tc.want)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder(Shape{3, 4, 4})
	b.Mul(b.Input(), b.Const(Shape{2, 1, 1}, []float32{1, 2}))
	if b.Err() == nil {
		t.Error("mul of 3 and 2 channels accepted")
	}
	b = NewBuilder(Shape{3, 4, 4})
	b.Conv2d("c", b.Input(), Conv{Out: 4, KH: 3, KW: 3, Stride: 1, Groups: 2, Weight: make([]float32, 4*9)})
	if b.Err() == nil {
		t.Error("2 groups of 3 channels accepted")
	}
	b = NewBuilder(Shape{3, 4, 4})
	b.Split(b.Input(), 1, 1)
	if b.Err() == nil {
		t.Error("split into 2 of 3 channels accepted")
	}
}

// TestAxpyMatchesGo checks the vector multiply-add of depthwise convolutions against the Go loop,
// bit for bit, at lengths around the vector width.
func TestAxpyMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 112} {
		x, y := randVec(r, n, 1), randVec(r, n, 1)
		want := append([]float32(nil), y...)
		axpyGo(want, x, 0.3)
		axpy(y, x, 0.3)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n %d: element %d is %v, Go %v", n, i, y[i], want[i])
			}
		}
	}
}

// TestClipMatchesGo checks the vector clamp and its gradient against the Go loops, bit for bit,
// NaN and signed zeros included.
func TestClipMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	for _, n := range []int{1, 8, 13, 40} {
		x, g, d := randVec(r, n, 4), randVec(r, n, 1), randVec(r, n, 1)
		x[0] = float32(math.NaN())
		if n > 2 {
			x[1], x[2], d[2] = 0, float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
		}
		got, want := make([]float32, n), make([]float32, n)
		clip(got, x, 0, 6)
		clipGo(want, x, 0, 6)
		dg, dw := append([]float32(nil), d...), append([]float32(nil), d...)
		clipGrad(dg, g, x, 0, 6)
		clipGradGo(dw, g, x, 0, 6)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(dg[i]) != math.Float32bits(dw[i]) {
				t.Fatalf("n %d element %d (x = %v): clip %v / %v, gradient %v / %v", n, i, x[i], got[i], want[i], dg[i], dw[i])
			}
		}
	}
}

// TestMaskMatchesGo checks the vector gradient mask of fused activations against the Go loop.
func TestMaskMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	for _, n := range []int{1, 8, 13, 40} {
		y, g := randVec(r, n, 4), randVec(r, n, 1)
		y[0] = float32(math.NaN())
		got, want := append([]float32(nil), g...), append([]float32(nil), g...)
		mask(got, y, 0, 6)
		maskGo(want, y, 0, 6)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d element %d: %v, Go %v", n, i, got[i], want[i])
			}
		}
	}
}

// TestActivationFusion checks that ReLU and Clip after convolutions (dense, grouped, depthwise)
// run inside them, and that the fused plan computes what the unfused one does: the same network
// with the convolutions' outputs tapped, which keeps them.
func TestActivationFusion(t *testing.T) {
	in := Shape{4, 9, 9}
	build := func(tap bool) *Graph {
		r := rand.New(rand.NewPCG(61, 62))
		b := NewBuilder(in)
		h := b.Input()
		for i, c := range []Conv{
			{Out: 8, KH: 3, KW: 3, Stride: 1, Pad: 1},
			{Out: 8, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 8},
			{Out: 8, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 2},
			{Out: 6, KH: 1, KW: 1, Stride: 1},
		} {
			c.Weight = randVec(r, c.Out*b.Shape(h).C/max(c.Groups, 1)*c.KH*c.KW, 0.4)
			c.Bias = randVec(r, c.Out, 0.3)
			y := b.Conv2d("c", h, c)
			if tap {
				b.Tap(string(rune('a'+i)), y)
			}
			if i%2 == 0 {
				h = b.Clip(y, 0, 6)
			} else {
				h = b.ReLU(y)
			}
		}
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(h), 3, randVec(r, 18, 1), nil))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	fused, kept := build(false), build(true)
	count := func(g *Graph) int {
		k := 0
		for _, st := range g.plan.steps {
			if _, ok := st.op.(*activated); ok {
				k++
			}
		}
		return k
	}
	if a, b := count(fused), count(kept); a != 4 || b != 0 {
		t.Fatalf("%d fused steps, %d with the outputs tapped; want 4 and 0", a, b)
	}
	const n = 3
	r := rand.New(rand.NewPCG(63, 64))
	x := randVec(r, n*in.Size(), 1)
	w := randVec(r, n*3, 1)
	var logits, grads [2][]float32
	for i, g := range []*Graph{fused, kept} {
		e := g.NewExec(n)
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
		if logits[0][i] != logits[1][i] {
			t.Fatalf("logit %d: %v fused, %v unfused", i, logits[0][i], logits[1][i])
		}
	}
	for i := range grads[0] {
		if grads[0][i] != grads[1][i] {
			t.Fatalf("gradient %d: %v fused, %v unfused", i, grads[0][i], grads[1][i])
		}
	}
}

// TestDwRowMatchesGo checks the vector row kernel of depthwise convolutions against the Go loop,
// bit for bit.
func TestDwRowMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, n := range []int{1, 7, 8, 9, 16, 23, 112} {
		for _, k := range []int{1, 3, 7} {
			for _, dil := range []int{1, 2} {
				src, w, out := randVec(r, n+(k-1)*dil, 1), randVec(r, k, 1), randVec(r, n, 1)
				want := append([]float32(nil), out...)
				dwRowGo(want, src, w, dil)
				dwRow(out, src, w, dil)
				for i := range out {
					if out[i] != want[i] {
						t.Fatalf("n %d k %d dil %d: element %d is %v, Go %v", n, k, dil, i, out[i], want[i])
					}
				}
			}
		}
	}
}

// TestDwRowsMatchesGo checks the several-row kernel of depthwise convolutions against the Go
// loop, bit for bit, with and without adding to the old values.
func TestDwRowsMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(59, 60))
	for _, n := range []int{1, 2, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 40, 112} {
		for _, k := range []int{1, 3, 5} {
			for _, kh := range []int{1, 2, 3} {
				for _, add := range []bool{false, true} {
					rs := n + 5
					src, w, out := randVec(r, n+(kh-1)*rs+(k-1)*2, 1), randVec(r, k*kh, 1), randVec(r, n, 1)
					mask := make([]uint32, k*n)
					for i := range mask {
						if r.IntN(4) != 0 {
							mask[i] = ^uint32(0)
						}
					}
					want := append([]float32(nil), out...)
					dwRowsGo(want, src, w, mask, k, 2, kh, rs, n, add, 0.25)
					dwRows(out, src, w, mask, k, 2, kh, rs, n, add, 0.25)
					for i := range out {
						if out[i] != want[i] {
							t.Fatalf("n %d k %d kh %d add %v: element %d is %v, Go %v", n, k, kh, add, i, out[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestBiasClipMatchesGo checks the convolution epilogue's vector bias-and-clamp against the Go
// loop, bit for bit, NaN and −0 included, with a clamp and with the whole line (no activation).
func TestBiasClipMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 8, 13, 40} {
		for _, c := range []struct{ b, lo, hi float32 }{{0.25, 0, 6}, {-0.5, -inf, inf}, {0, -inf, inf}} {
			x := randVec(r, n, 8)
			x[0] = float32(math.NaN())
			if n > 2 {
				x[1], x[2] = float32(math.Copysign(0, -1)), -c.b
			}
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			biasClip(got, c.b, c.lo, c.hi)
			biasClipGo(want, c.b, c.lo, c.hi)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d, bias %v, clamp [%v, %v], element %d (x = %v): %v, Go %v", n, c.b, c.lo, c.hi, i, x[i], got[i], want[i])
				}
			}
		}
	}
}

// TestSumMatchesGo checks the residual sum's vector kernel, with and without its fused clamp,
// against the Go loop bit for bit, NaN and −0 included; a sum equal to an operand in place
// (out aliasing an input) too.
func TestSumMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 8, 13, 40} {
		for _, c := range []struct {
			clamp  bool
			lo, hi float32
		}{{false, 0, 0}, {true, 0, inf}, {true, 0, 6}, {true, -inf, inf}} {
			p, q := randVec(r, n, 8), randVec(r, n, 8)
			p[0] = float32(math.NaN())
			if n > 2 {
				p[1], q[1] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
				q[2] = -p[2]
			}
			got, want := make([]float32, n), make([]float32, n)
			sum(got, p, q, c.clamp, c.lo, c.hi)
			sumGo(want, p, q, c.clamp, c.lo, c.hi)
			inPlace := append([]float32(nil), p...)
			sum(inPlace, inPlace, q, c.clamp, c.lo, c.hi)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(inPlace[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d, clamp %v [%v, %v], element %d (%v + %v): %v (in place %v), Go %v", n, c.clamp, c.lo, c.hi, i, p[i], q[i], got[i], inPlace[i], want[i])
				}
			}
		}
	}
}
