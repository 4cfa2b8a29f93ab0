package nn

import "math"

// Conv describes a 2-D convolution's weights: Weight is Out×In×KH×KW (PyTorch's layout), Bias is
// nil or has Out elements. The input channel count comes from the input value.
type Conv struct {
	Out, KH, KW, Stride, Pad int
	Weight, Bias             []float32

	// Optional generalisations (see conv_general.go); zero values keep the fields above
	// meaning what they say. With Groups > 1, Weight is Out×(In/Groups)×KH×KW.
	Groups     int
	StrideW    int   // horizontal stride; 0 means Stride, which is then the vertical one
	DilH, DilW int   // dilations; 0 means 1
	Pads       []int // nil, or [top, left, bottom, right] replacing Pad
}

// Conv2d appends a convolution of x.
func (b *Builder) Conv2d(name string, x Value, c Conv) Value {
	c, general := c.normalize()
	if general {
		return b.convGeneral(name, x, c)
	}
	in := b.shape(x)
	switch {
	case c.Out <= 0 || c.KH <= 0 || c.KW <= 0 || c.Stride <= 0 || c.Pad < 0:
		return b.fail("%s: invalid convolution %d×%d out %d stride %d pad %d", name, c.KH, c.KW, c.Out, c.Stride, c.Pad)
	case len(c.Weight) != c.Out*in.C*c.KH*c.KW:
		return b.fail("%s: weight has %d elements, want %d×%d×%d×%d", name, len(c.Weight), c.Out, in.C, c.KH, c.KW)
	case c.Bias != nil && len(c.Bias) != c.Out:
		return b.fail("%s: bias has %d elements, want %d", name, len(c.Bias), c.Out)
	}
	oh := (in.H+2*c.Pad-c.KH)/c.Stride + 1
	ow := (in.W+2*c.Pad-c.KW)/c.Stride + 1
	if oh <= 0 || ow <= 0 {
		return b.fail("%s: %d×%d kernel does not fit input %v", name, c.KH, c.KW, in)
	}
	o := &conv{cin: in.C, cout: c.Out, kh: c.KH, kw: c.KW, stride: c.Stride, pad: c.Pad,
		in: in, out: Shape{c.Out, oh, ow}, w: c.Weight, bias: c.Bias}
	return b.add(name, o, o.out, x)
}

// BatchNorm holds an inference-mode batch normalisation: y = (x−Mean)/sqrt(Var+Eps)·Gamma + Beta.
type BatchNorm struct {
	Gamma, Beta, Mean, Var []float32
	Eps                    float64
}

// BatchNorm appends a batch normalisation of x using its running statistics.
func (b *Builder) BatchNorm(name string, x Value, p BatchNorm) Value {
	s := b.shape(x)
	for _, t := range [][]float32{p.Gamma, p.Beta, p.Mean, p.Var} {
		if len(t) != s.C {
			return b.fail("%s: batch norm parameters have %d elements, want %d", name, len(t), s.C)
		}
	}
	a := &affine{scale: make([]float32, s.C), shift: make([]float32, s.C), hw: s.H * s.W}
	for c := range s.C {
		// Computed in float64 so the folded parameters round once.
		inv := 1 / math.Sqrt(float64(p.Var[c])+p.Eps)
		sc := float64(p.Gamma[c]) * inv
		a.scale[c] = float32(sc)
		a.shift[c] = float32(float64(p.Beta[c]) - float64(p.Mean[c])*sc)
	}
	return b.add(name, a, s, x)
}

// ReLU appends max(0, x).
func (b *Builder) ReLU(x Value) Value {
	s := b.shape(x)
	return b.add("relu", relu{c: s.C, hw: s.H * s.W}, s, x)
}

// AvgPool appends a k×k average pooling with stride k and no padding.
func (b *Builder) AvgPool(x Value, k int) Value {
	s := b.shape(x)
	if k <= 0 || s.H%k != 0 || s.W%k != 0 {
		return b.fail("avgpool %d does not divide %v", k, s)
	}
	return b.add("avgpool", &avgPool{k: k, in: s}, Shape{s.C, s.H / k, s.W / k}, x)
}

// GlobalAvgPool appends the mean over each channel's plane, giving C×1×1.
func (b *Builder) GlobalAvgPool(x Value) Value {
	s := b.shape(x)
	return b.add("globalpool", &globalPool{in: s}, Shape{s.C, 1, 1}, x)
}

// Linear appends a fully connected layer: weight is Out×In (PyTorch's layout), bias nil or Out.
func (b *Builder) Linear(name string, x Value, out int, weight, bias []float32) Value {
	s := b.shape(x)
	in := s.Size()
	switch {
	case s.H != 1 || s.W != 1:
		return b.fail("%s: linear layer needs a vector input, got %v", name, s)
	case len(weight) != out*in:
		return b.fail("%s: weight has %d elements, want %d×%d", name, len(weight), out, in)
	case bias != nil && len(bias) != out:
		return b.fail("%s: bias has %d elements, want %d", name, len(bias), out)
	}
	return b.add(name, newLinear(in, out, weight, bias), Shape{out, 1, 1}, x)
}

// Add appends the elementwise sum of two values (a residual connection). Shapes that differ
// broadcast: each of C, H, W equal or 1 on either side (see Mul).
func (b *Builder) Add(x, y Value) Value {
	if b.shape(x) != b.shape(y) {
		return b.binary(bAdd, x, y)
	}
	s := b.shape(x)
	return b.add("add", add{c: s.C, hw: s.H * s.W}, s, x, y)
}

// Concat appends the concatenation of values along channels. Their planes must agree.
func (b *Builder) Concat(xs ...Value) Value {
	if len(xs) == 0 {
		return b.fail("concat of nothing")
	}
	s := b.shape(xs[0])
	k := concat{channels: make([]int, len(xs)), aliased: make([]bool, len(xs)), hw: s.H * s.W}
	c := 0
	for i, x := range xs {
		t := b.shape(x)
		if t.H != s.H || t.W != s.W {
			return b.fail("concat: planes %v and %v differ", s, t)
		}
		k.channels[i] = t.C
		c += t.C
	}
	return b.add("concat", k, Shape{c, s.H, s.W}, xs...)
}

// ShortcutA appends the parameter-free shortcut of CIFAR ResNets (He et al. 2016, option A): it
// takes every second pixel in each direction and zero-pads the channels evenly to out.
func (b *Builder) ShortcutA(x Value, out int) Value {
	s := b.shape(x)
	if out < s.C || (out-s.C)%2 != 0 || s.H%2 != 0 || s.W%2 != 0 {
		return b.fail("shortcut: cannot pad %v to %d channels with stride 2", s, out)
	}
	return b.add("shortcut", &shortcutA{in: s, lo: (out - s.C) / 2}, Shape{out, s.H / 2, s.W / 2}, x)
}
