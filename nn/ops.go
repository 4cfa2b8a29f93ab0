package nn

import (
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/internal/vec"
)

// Every value of a micro-batch is stored channel-major with the images side by side:
// element (c, image b, pixel p) of a value with plane size hw sits at c·ld + b·hw + p, where
// ld = cap·hw + rowPad and cap is the Exec's batch capacity. Only the first n images are meaningful.
// This keeps each channel of the whole micro-batch one contiguous row, so that a 1×1
// convolution is a single matrix product and concatenation is adjacency.

// op is one layer. forward writes out from in; backward adds the gradient with respect to each
// input into gin (gin[i] is nil when that input needs none), given the output's gradient gout.
type op interface {
	forward(x *execCtx, n int, in [][]float32, out []float32)
	backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32)
}

// affine is inference batch normalisation folded to y = x·scale + shift, optionally followed by
// ReLU (fused when the normalisation feeds only a ReLU).
type affine struct {
	scale, shift []float32
	relu         bool
	hw           int
}

// channel returns channel c's scale, shift and whether a ReLU follows; a nil affine is the
// identity (1, 0, no ReLU), so that paths with an optional fused normalisation need no branch.
func (a *affine) channel(c int) (s, t float32, relu bool) {
	if a == nil {
		return 1, 0, false
	}
	return a.scale[c], a.shift[c], a.relu
}

func (a *affine) forward(x *execCtx, n int, in [][]float32, out []float32) {
	ld := x.ld(a.hw)
	for c := range a.scale {
		vec.ScaleShift(out[c*ld:c*ld+n*a.hw], in[0][c*ld:c*ld+n*a.hw], a.scale[c], a.shift[c], a.relu)
	}
}

func (a *affine) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	ld := x.ld(a.hw)
	for c := range a.scale {
		vec.BNGrad(gin[0][c*ld:c*ld+n*a.hw], gout[c*ld:c*ld+n*a.hw], in[0][c*ld:c*ld+n*a.hw], a.scale[c], a.shift[c], a.relu)
	}
}

type relu struct{ c, hw int }

func (r relu) forward(x *execCtx, n int, in [][]float32, out []float32) {
	rows, hw := r.c, r.hw
	ld := x.ld(hw)
	for c := range rows {
		src := in[0][c*ld : c*ld+n*hw]
		dst := out[c*ld : c*ld+n*hw]
		for i, v := range src {
			dst[i] = max(v, 0)
		}
	}
}

func (r relu) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	rows, hw := r.c, r.hw
	ld := x.ld(hw)
	for c := range rows {
		y := out[c*ld : c*ld+n*hw]
		g := gout[c*ld : c*ld+n*hw]
		dst := gin[0][c*ld : c*ld+n*hw]
		for i, v := range g {
			if y[i] > 0 {
				dst[i] += v
			}
		}
	}
}

// add is a residual sum. store[i]: this sum alone takes input i's gradient, which its backward
// then writes rather than adds to (see storeGradients).
type add struct {
	c, hw int
	store [2]bool
}

func (a add) forward(x *execCtx, n int, in [][]float32, out []float32) {
	a.sum(x, n, in, out, false, 0, 0)
}

// sum is forward, clamping the sums to [lo, hi] when clamp (a residual sum with its ReLU).
func (a add) sum(x *execCtx, n int, in [][]float32, out []float32, clamp bool, lo, hi float32) {
	ld := x.ld(a.hw)
	for c := range a.c {
		o := c * ld
		sum(out[o:o+n*a.hw], in[0][o:], in[1][o:], clamp, lo, hi)
	}
}

func (a add) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	rows, hw := a.c, a.hw
	ld := x.ld(hw)
	for j, dst := range gin {
		if dst == nil {
			continue
		}
		for c := range rows {
			g := gout[c*ld : c*ld+n*hw]
			d := dst[c*ld : c*ld+n*hw]
			if a.store[j] {
				copy(d, g)
			} else {
				axpy(d, g, 1) // 1·g is exact: the scalar loop's sums
			}
		}
	}
}

// concat copies its inputs into adjacent channels. The plan usually places the inputs inside the
// output's buffer instead; then aliased[i] is true and nothing moves in either direction.
type concat struct {
	channels []int
	aliased  []bool
	hw       int
}

func (k concat) forward(x *execCtx, n int, in [][]float32, out []float32) {
	ld := x.ld(k.hw)
	off := 0
	for i, c := range k.channels {
		if !k.aliased[i] {
			for ch := range c {
				copy(out[(off+ch)*ld:(off+ch)*ld+n*k.hw], in[i][ch*ld:ch*ld+n*k.hw])
			}
		}
		off += c
	}
}

func (k concat) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	ld := x.ld(k.hw)
	off := 0
	for i, c := range k.channels {
		if !k.aliased[i] && gin[i] != nil {
			for ch := range c {
				g := gout[(off+ch)*ld : (off+ch)*ld+n*k.hw]
				d := gin[i][ch*ld : ch*ld+n*k.hw]
				for j, v := range g {
					d[j] += v
				}
			}
		}
		off += c
	}
}

// avgPool is a k×k mean with stride k. With pre (set by the plan, see poolFirst) each input
// is normalised (and rectified) before it is averaged: a channel row of the micro-batch at a
// time goes through the batch norm into scratch, and is pooled from there.
type avgPool struct {
	k   int
	in  Shape
	pre *affine
}

// scratch is the length of the row this layer normalises into at batch capacity cap.
func (p *avgPool) scratch(cap int) int {
	if p.pre == nil {
		return 0
	}
	return cap * p.in.H * p.in.W
}

func (p *avgPool) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := p.in.H*p.in.W, (p.in.H/p.k)*(p.in.W/p.k)
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range p.in.C {
		src := in[0][c*ldi : c*ldi+n*hw]
		if p.pre != nil {
			row := x.tmp[:n*hw]
			vec.ScaleShift(row, src, p.pre.scale[c], p.pre.shift[c], p.pre.relu)
			src = row
		}
		for b := range n {
			p.pool(out[c*ldo+b*ohw:c*ldo+(b+1)*ohw], src[b*hw:(b+1)*hw])
		}
	}
}

// pool averages one plane.
func (p *avgPool) pool(dst, src []float32) {
	w, ow := p.in.W, p.in.W/p.k
	inv := 1 / float32(p.k*p.k)
	if p.k == 2 {
		vec.Pool2(dst, src, w, p.in.H)
		return
	}
	for oy := range p.in.H / p.k {
		for ox := range ow {
			var s float32
			for i := range p.k {
				row := src[(oy*p.k+i)*w+ox*p.k:]
				for j := range p.k {
					s += row[j]
				}
			}
			dst[oy*ow+ox] = s * inv
		}
	}
}

func (p *avgPool) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := p.in.H*p.in.W, (p.in.H/p.k)*(p.in.W/p.k)
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range p.in.C {
		dst := gin[0][c*ldi : c*ldi+n*hw]
		if p.pre != nil {
			// The gradient of the normalised input, then through the normalisation.
			row := x.tmp[:n*hw]
			if p.k != 2 {
				clear(row)
			}
			for b := range n {
				p.unpool(row[b*hw:(b+1)*hw], gout[c*ldo+b*ohw:c*ldo+(b+1)*ohw], p.k != 2)
			}
			vec.BNGrad(dst, row, in[0][c*ldi:c*ldi+n*hw], p.pre.scale[c], p.pre.shift[c], p.pre.relu)
			continue
		}
		for b := range n {
			p.unpool(dst[b*hw:(b+1)*hw], gout[c*ldo+b*ohw:c*ldo+(b+1)*ohw], true)
		}
	}
}

// unpool adds (acc) or, for k = 2 only, writes the gradient of one pooled plane g to its input
// plane's gradient dst.
func (p *avgPool) unpool(dst, g []float32, acc bool) {
	w, ow := p.in.W, p.in.W/p.k
	inv := 1 / float32(p.k*p.k)
	if p.k == 2 {
		vec.Unpool2(dst, g, w, p.in.H, acc)
		return
	}
	for oy := range p.in.H / p.k {
		for ox := range ow {
			v := g[oy*ow+ox] * inv
			for i := range p.k {
				row := dst[(oy*p.k+i)*w+ox*p.k:]
				for j := range p.k {
					row[j] += v
				}
			}
		}
	}
}

// globalPool is the mean over each plane.
type globalPool struct{ in Shape }

func (p *globalPool) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := p.in.H * p.in.W
	ld := x.ld(hw)
	for c := range p.in.C {
		for b := range n {
			out[c*x.ld(1)+b] = mean32(in[0][c*ld+b*hw : c*ld+(b+1)*hw])
		}
	}
}

// mean32 is the mean of v, summed in float64 and rounded once. A float32 running sum over a
// large plane (a squeeze-and-excitation pool over 56×56 pixels) errs by up to len(v) roundings
// of the growing sum; that error then scales every channel of the block's output and, through
// the layers after it, brings ReLU inputs near zero to the wrong side. Four accumulators keep
// the loop from waiting on each addition.
func mean32(v []float32) float32 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i])
		s1 += float64(v[i+1])
		s2 += float64(v[i+2])
		s3 += float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return float32((s0 + s1 + s2 + s3) / float64(len(v)))
}

func (p *globalPool) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw := p.in.H * p.in.W
	ld := x.ld(hw)
	for c := range p.in.C {
		for b := range n {
			v := float32(float64(gout[c*x.ld(1)+b]) / float64(hw)) // one rounding, as the forward's
			d := gin[0][c*ld+b*hw : c*ld+(b+1)*hw]
			for i := range d {
				d[i] += v
			}
		}
	}
}

// linear is a fully connected layer on vectors (values with a 1×1 plane): one matrix product
// over the micro-batch, whose images are the columns, in each direction.
type linear struct {
	in, out int
	w, b    []float32
	fw, bw  *gemm.Packed // out × in, and its transpose
}

func newLinear(in, out int, w, b []float32) *linear {
	t := make([]float32, len(w))
	for k := range out {
		for c := range in {
			t[c*out+k] = w[k*in+c]
		}
	}
	return &linear{in: in, out: out, w: w, b: b, fw: gemm.Pack(out, in, w, in), bw: gemm.Pack(in, out, t, out)}
}

func (l *linear) forward(x *execCtx, n int, in [][]float32, out []float32) {
	ld := x.ld(1)
	l.fw.Mul(out, ld, in[0], ld, n, nil, false, x.ws)
	if l.b != nil {
		for k, v := range l.b {
			x.addBias(out[k*ld:k*ld+n], v)
		}
	}
}

func (l *linear) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	ld := x.ld(1)
	l.bw.Mul(gin[0], ld, gout, ld, n, nil, true, x.ws)
}

// shortcutA subsamples by 2 and zero-pads channels: lo channels below, the rest above.
type shortcutA struct {
	in Shape
	lo int
}

func (s *shortcutA) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, oh, ow := s.in.H*s.in.W, s.in.H/2, s.in.W/2
	ldi, ldo := x.ld(hw), x.ld(oh*ow)
	cout := s.in.C + 2*s.lo
	for c := range cout {
		dst := out[c*ldo : c*ldo+n*oh*ow]
		ci := c - s.lo
		if ci < 0 || ci >= s.in.C {
			clear(dst)
			continue
		}
		for b := range n {
			src := in[0][ci*ldi+b*hw:]
			d := dst[b*oh*ow:]
			for y := range oh {
				for xx := range ow {
					d[y*ow+xx] = src[2*y*s.in.W+2*xx]
				}
			}
		}
	}
}

func (s *shortcutA) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, oh, ow := s.in.H*s.in.W, s.in.H/2, s.in.W/2
	ldi, ldo := x.ld(hw), x.ld(oh*ow)
	for ci := range s.in.C {
		c := ci + s.lo
		for b := range n {
			g := gout[c*ldo+b*oh*ow:]
			d := gin[0][ci*ldi+b*hw:]
			for y := range oh {
				for xx := range ow {
					d[2*y*s.in.W+2*xx] += g[y*ow+xx]
				}
			}
		}
	}
}
