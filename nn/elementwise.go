package nn

import (
	"fmt"
	"math"
)

// Elementwise layers of imported classifiers: activations (unary) and arithmetic between two
// values with broadcasting (binary), plus constants that enter such arithmetic. Each computes
// every element from that image's elements alone, so results do not depend on the micro-batch.

type unaryKind int

const (
	uLeaky unaryKind = iota
	uClip
	uSigmoid
	uHardSigmoid
	uHardSwish
	uTanh
	uErf
	uGELU
	uSqrt
	uPow
)

var unaryNames = [...]string{"leakyrelu", "clip", "sigmoid", "hardsigmoid", "hardswish", "tanh", "erf", "gelu", "sqrt", "pow"}

// unary applies f elementwise; a and b are its parameters (slope, bounds, alpha and beta, exponent).
type unary struct {
	kind  unaryKind
	a, b  float32
	c, hw int
}

func (b *Builder) unary(x Value, k unaryKind, p, q float32) Value {
	s := b.shape(x)
	return b.add(unaryNames[k], &unary{kind: k, a: p, b: q, c: s.C, hw: s.H * s.W}, s, x)
}

// LeakyReLU appends x for x > 0, alpha·x otherwise.
func (b *Builder) LeakyReLU(x Value, alpha float32) Value { return b.unary(x, uLeaky, alpha, 0) }

// Clip appends min(max(x, lo), hi) (ReLU6 is Clip(x, 0, 6)); pass ±Inf for a missing bound.
// Its gradient passes where lo < x < hi, as PyTorch's hardtanh.
func (b *Builder) Clip(x Value, lo, hi float32) Value {
	if !(lo <= hi) {
		return b.fail("clip: lower bound %v above upper bound %v", lo, hi)
	}
	return b.unary(x, uClip, lo, hi)
}

// Sigmoid appends 1/(1+exp(−x)).
func (b *Builder) Sigmoid(x Value) Value { return b.unary(x, uSigmoid, 0, 0) }

// HardSigmoid appends max(0, min(1, alpha·x + beta)) (ONNX's; PyTorch's is alpha 1/6, beta 0.5).
func (b *Builder) HardSigmoid(x Value, alpha, beta float32) Value {
	return b.unary(x, uHardSigmoid, alpha, beta)
}

// HardSwish appends x·max(0, min(1, x/6 + 1/2)).
func (b *Builder) HardSwish(x Value) Value { return b.unary(x, uHardSwish, 0, 0) }

// Tanh appends tanh(x).
func (b *Builder) Tanh(x Value) Value { return b.unary(x, uTanh, 0, 0) }

// Erf appends the error function of x.
func (b *Builder) Erf(x Value) Value { return b.unary(x, uErf, 0, 0) }

// GELU appends x·Φ(x) = x·(1 + erf(x/√2))/2, the exact form (what ONNX's decomposition computes).
func (b *Builder) GELU(x Value) Value { return b.unary(x, uGELU, 0, 0) }

// Sqrt appends √x.
func (b *Builder) Sqrt(x Value) Value { return b.unary(x, uSqrt, 0, 0) }

// Pow appends x^p for a constant exponent p.
func (b *Builder) Pow(x Value, p float32) Value { return b.unary(x, uPow, p, 0) }

func (u *unary) forward(x *execCtx, n int, in [][]float32, out []float32) {
	ld := x.ld(u.hw)
	for c := range u.c {
		src := in[0][c*ld : c*ld+n*u.hw]
		dst := out[c*ld : c*ld+n*u.hw]
		u.apply(dst, src)
	}
}

// apply computes dst = f(src). The transcendental functions are evaluated in float64 and
// rounded once.
func (u *unary) apply(dst, src []float32) {
	dst = dst[:len(src)]
	switch u.kind {
	case uLeaky:
		for i, v := range src {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = v * u.a
			}
		}
	case uClip:
		clip(dst, src, u.a, u.b)
	case uSigmoid:
		for i, v := range src {
			dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case uHardSigmoid:
		for i, v := range src {
			dst[i] = min(max(v*u.a+u.b, 0), 1)
		}
	case uHardSwish:
		for i, v := range src {
			dst[i] = v * min(max(v+3, 0), 6) / 6
		}
	case uTanh:
		for i, v := range src {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case uErf:
		for i, v := range src {
			dst[i] = float32(math.Erf(float64(v)))
		}
	case uGELU:
		for i, v := range src {
			f := float64(v)
			dst[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
		}
	case uSqrt:
		for i, v := range src {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case uPow:
		if u.a == 2 {
			for i, v := range src {
				dst[i] = v * v
			}
			return
		}
		for i, v := range src {
			dst[i] = float32(math.Pow(float64(v), float64(u.a)))
		}
	}
}

func (u *unary) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	ld := x.ld(u.hw)
	for c := range u.c {
		lo, hi := c*ld, c*ld+n*u.hw
		u.grad(gin[0][lo:hi], gout[lo:hi], in[0][lo:hi], out[lo:hi])
	}
}

// grad adds g·f′(x) to d, with y = f(x) where that is cheaper.
func (u *unary) grad(d, g, xs, ys []float32) {
	g, xs, ys = g[:len(d)], xs[:len(d)], ys[:len(d)]
	switch u.kind {
	case uLeaky:
		for i, v := range g {
			if xs[i] > 0 {
				d[i] += v
			} else {
				d[i] += v * u.a
			}
		}
	case uClip:
		clipGrad(d, g, xs, u.a, u.b)
	case uSigmoid:
		for i, v := range g {
			d[i] += v * ys[i] * (1 - ys[i])
		}
	case uHardSigmoid:
		for i, v := range g {
			if t := xs[i]*u.a + u.b; t > 0 && t < 1 {
				d[i] += v * u.a
			}
		}
	case uHardSwish:
		for i, v := range g {
			switch t := xs[i]; {
			case t < -3:
			case t <= 3:
				d[i] += v * (t/3 + 0.5)
			default:
				d[i] += v
			}
		}
	case uTanh:
		for i, v := range g {
			d[i] += v * (1 - ys[i]*ys[i])
		}
	case uErf:
		for i, v := range g {
			f := float64(xs[i])
			d[i] += float32(float64(v) * 2 / math.SqrtPi * math.Exp(-f*f))
		}
	case uGELU:
		for i, v := range g {
			f := float64(xs[i])
			phi := math.Exp(-f*f/2) / math.Sqrt(2*math.Pi)
			d[i] += float32(float64(v) * (0.5*(1+math.Erf(f/math.Sqrt2)) + f*phi))
		}
	case uSqrt:
		for i, v := range g {
			d[i] += v * 0.5 / ys[i]
		}
	case uPow:
		for i, v := range g {
			if u.a == 2 {
				d[i] += v * 2 * xs[i]
				continue
			}
			d[i] += float32(float64(v) * float64(u.a) * math.Pow(float64(xs[i]), float64(u.a-1)))
		}
	}
}

// clipGo writes src clamped to [lo, hi] into dst. NaN stays NaN; comparisons rather than the
// min and max built-ins, whose NaN handling is several times slower.
func clipGo(dst, src []float32, lo, hi float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		dst[i] = v
	}
}

// sumGo writes p + q into dst, clamped to [lo, hi] as clipGo clamps when clamp.
func sumGo(dst, p, q []float32, clamp bool, lo, hi float32) {
	p, q = p[:len(dst)], q[:len(dst)]
	for i := range dst {
		v := p[i] + q[i]
		if clamp {
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
		}
		dst[i] = v
	}
}

// clipGradGo adds g to d where lo < x < hi, and +0 elsewhere (which turns −0 into +0, as the
// vector code's masked add does).
func clipGradGo(d, g, x []float32, lo, hi float32) {
	g, x = g[:len(d)], x[:len(d)]
	for i, v := range g {
		var m float32
		if x[i] > lo && x[i] < hi {
			m = v
		}
		d[i] += m
	}
}

// constant is a value that is the same tensor for every image (an ONNX initializer entering
// arithmetic). It has no input and takes no gradient.
type constant struct {
	s    Shape
	data []float32
}

// Const appends a constant of shape s, the same for every image: data holds s.Size() values in
// C×H×W order. Use it as an operand of Add, Sub, Mul or Div; it takes no gradient.
func (b *Builder) Const(s Shape, data []float32) Value {
	if s.C <= 0 || s.H <= 0 || s.W <= 0 || len(data) != s.Size() {
		return b.fail("const: %d values for shape %v", len(data), s)
	}
	return b.add("const", &constant{s: s, data: data}, s)
}

func (k *constant) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := k.s.H * k.s.W
	ld := x.ld(hw)
	for c := range k.s.C {
		src := k.data[c*hw : (c+1)*hw]
		for b := range n {
			copy(out[c*ld+b*hw:], src)
		}
	}
}

func (k *constant) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
}

type binKind int

const (
	bAdd binKind = iota
	bSub
	bMul
	bDiv
)

var binNames = [...]string{"add", "sub", "mul", "div"}

// binary is x ∘ y with broadcasting: each of C, H, W of an operand equals the output's or is 1.
// noGrad[i] is set for constant operands, whose gradient nothing reads.
type binary struct {
	kind   binKind
	out    Shape
	sh     [2]Shape
	noGrad [2]bool
}

// broadcast returns the shape of x ∘ y, or false when they do not broadcast.
func broadcast(x, y Shape) (Shape, bool) {
	dim := func(a, b int) (int, bool) {
		switch {
		case a == b || b == 1:
			return a, true
		case a == 1:
			return b, true
		}
		return 0, false
	}
	c, ok1 := dim(x.C, y.C)
	h, ok2 := dim(x.H, y.H)
	w, ok3 := dim(x.W, y.W)
	return Shape{c, h, w}, ok1 && ok2 && ok3
}

func (b *Builder) binary(k binKind, x, y Value) Value {
	sx, sy := b.shape(x), b.shape(y)
	s, ok := broadcast(sx, sy)
	if !ok {
		return b.fail("%s: shapes %v and %v do not broadcast", binNames[k], sx, sy)
	}
	op := &binary{kind: k, out: s, sh: [2]Shape{sx, sy}}
	for i, v := range []Value{x, y} {
		_, op.noGrad[i] = b.nodes[v.id].op.(*constant)
	}
	return b.add(binNames[k], op, s, x, y)
}

// Sub appends x − y, broadcasting as Add does.
func (b *Builder) Sub(x, y Value) Value { return b.binary(bSub, x, y) }

// Mul appends x·y, broadcasting as Add does (a squeeze-and-excitation gate is C×H×W · C×1×1).
func (b *Builder) Mul(x, y Value) Value { return b.binary(bMul, x, y) }

// Div appends x/y, broadcasting as Add does.
func (b *Builder) Div(x, y Value) Value { return b.binary(bDiv, x, y) }

func (o *binary) f(p, q float32) float32 {
	switch o.kind {
	case bAdd:
		return p + q
	case bSub:
		return p - q
	case bMul:
		return p * q
	}
	return p / q
}

// index returns where element (c, pixel y·W+x) of operand i's image b sits.
func (o *binary) index(x *execCtx, i, c, b, y, xx int) int {
	s := o.sh[i]
	hw := s.H * s.W
	if s.C == 1 {
		c = 0
	}
	if s.H == 1 {
		y = 0
	}
	if s.W == 1 {
		xx = 0
	}
	return c*x.ld(hw) + b*hw + y*s.W + xx
}

func (o *binary) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := o.out.H * o.out.W
	ld := x.ld(hw)
	if o.sh[0] == o.out && o.sh[1] == o.out {
		for c := range o.out.C {
			p, q, d := in[0][c*ld:c*ld+n*hw], in[1][c*ld:c*ld+n*hw], out[c*ld:c*ld+n*hw]
			o.rows(d, p, q)
		}
		return
	}
	for c := range o.out.C {
		for b := range n {
			d := out[c*ld+b*hw : c*ld+(b+1)*hw]
			if o.planeFast() {
				p, q := o.plane(x, in, 0, c, b), o.plane(x, in, 1, c, b)
				o.rows(d, p, q)
				continue
			}
			for y := range o.out.H {
				for xx := range o.out.W {
					d[y*o.out.W+xx] = o.f(in[0][o.index(x, 0, c, b, y, xx)], in[1][o.index(x, 1, c, b, y, xx)])
				}
			}
		}
	}
}

// planeFast reports whether each operand's plane is either the output's or a single pixel.
func (o *binary) planeFast() bool {
	for _, s := range o.sh {
		if (s.H != o.out.H || s.W != o.out.W) && (s.H != 1 || s.W != 1) {
			return false
		}
	}
	return true
}

// plane returns operand i's plane for output channel c of image b: hw values or one.
func (o *binary) plane(x *execCtx, in [][]float32, i, c, b int) []float32 {
	s := o.sh[i]
	hw := s.H * s.W
	if s.C == 1 {
		c = 0
	}
	off := c*x.ld(hw) + b*hw
	return in[i][off : off+hw]
}

// rows computes d = p ∘ q where each of p, q has len(d) values or one.
func (o *binary) rows(d, p, q []float32) {
	switch {
	case len(p) == len(d) && len(q) == len(d):
		switch o.kind {
		case bAdd:
			for i := range d {
				d[i] = p[i] + q[i]
			}
		case bSub:
			for i := range d {
				d[i] = p[i] - q[i]
			}
		case bMul:
			for i := range d {
				d[i] = p[i] * q[i]
			}
		default:
			for i := range d {
				d[i] = p[i] / q[i]
			}
		}
	case len(q) == 1:
		s := q[0]
		for i := range d {
			d[i] = o.f(p[i], s)
		}
	case len(p) == 1:
		s := p[0]
		for i := range d {
			d[i] = o.f(s, q[i])
		}
	default:
		for i := range d {
			d[i] = o.f(p[0], q[0])
		}
	}
}

func (o *binary) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	hw := o.out.H * o.out.W
	ld := x.ld(hw)
	for i := range 2 {
		if gin[i] == nil || o.noGrad[i] {
			continue
		}
		for c := range o.out.C {
			if o.sh[0] == o.out && o.sh[1] == o.out {
				lo, hi := c*ld, c*ld+n*hw
				o.gradRows(i, gin[i][lo:hi], gout[lo:hi], in[0][lo:hi], in[1][lo:hi])
				continue
			}
			for b := range n {
				g := gout[c*ld+b*hw : c*ld+(b+1)*hw]
				if o.planeFast() {
					o.gradRows(i, o.plane(x, gin, i, c, b), g, o.plane(x, in, 0, c, b), o.plane(x, in, 1, c, b))
					continue
				}
				for y := range o.out.H {
					for xx := range o.out.W {
						p := in[0][o.index(x, 0, c, b, y, xx)]
						q := in[1][o.index(x, 1, c, b, y, xx)]
						gin[i][o.index(x, i, c, b, y, xx)] += o.partial(i, g[y*o.out.W+xx], p, q)
					}
				}
			}
		}
	}
}

// gradRows adds operand i's gradient for output gradient g to d; d, p and q each have len(g)
// values or one (a broadcast operand, whose gradient is the sum over the row, taken in order
// in float64 and rounded once).
func (o *binary) gradRows(i int, d, g, p, q []float32) {
	at := func(v []float32, k int) float32 {
		if len(v) == 1 {
			return v[0]
		}
		return v[k]
	}
	if len(d) == 1 && len(g) > 1 {
		// A float32 running sum over a whole plane (a squeeze-and-excitation scale's
		// gradient, over up to 56×56 pixels) would err by up to len(g) roundings.
		var s float64
		for k, v := range g {
			s += float64(o.partial(i, v, at(p, k), at(q, k)))
		}
		d[0] = float32(float64(d[0]) + s)
		return
	}
	if o.kind == bAdd || (o.kind == bSub && i == 0) {
		for k, v := range g {
			d[k] += v
		}
		return
	}
	for k, v := range g {
		d[k] += o.partial(i, v, at(p, k), at(q, k))
	}
}

// partial is g·∂(p∘q)/∂p (i = 0) or g·∂(p∘q)/∂q (i = 1).
func (o *binary) partial(i int, g, p, q float32) float32 {
	switch o.kind {
	case bAdd:
		return g
	case bSub:
		if i == 0 {
			return g
		}
		return -g
	case bMul:
		if i == 0 {
			return g * q
		}
		return g * p
	}
	if i == 0 {
		return g / q
	}
	return -g * p / (q * q)
}

func (o *binary) String() string { return fmt.Sprintf("%s %v %v", binNames[o.kind], o.sh[0], o.sh[1]) }
