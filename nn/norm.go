package nn

import "math"

// borrower is a layer that borrows the Exec's col and tmp scratch: NewExec sizes them to the
// largest need of any layer at the Exec's batch capacity.
type borrower interface {
	workspace(cap int) (col, tmp int)
}

// meanC is the mean over channels at each pixel (ONNX ReduceMean over the channel axis).
type meanC struct{ in Shape }

// MeanC appends the mean over channels at each pixel, giving 1×H×W.
func (b *Builder) MeanC(x Value) Value {
	s := b.shape(x)
	return b.add("meanc", &meanC{in: s}, Shape{1, s.H, s.W}, x)
}

func (m *meanC) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := m.in.H * m.in.W
	ld := x.ld(hw)
	d := out[:n*hw]
	copy(d, in[0][:n*hw])
	for c := 1; c < m.in.C; c++ {
		for i, v := range in[0][c*ld : c*ld+n*hw] {
			d[i] += v
		}
	}
	inv := 1 / float32(m.in.C)
	for i := range d {
		d[i] *= inv
	}
}

func (m *meanC) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw := m.in.H * m.in.W
	ld := x.ld(hw)
	inv := 1 / float32(m.in.C)
	g := gout[:n*hw]
	for c := range m.in.C {
		d := gin[0][c*ld : c*ld+n*hw]
		for i, v := range g {
			d[i] += v * inv
		}
	}
}

// layerNormC normalises the channels of each pixel: y = (x − μ)/√(σ² + eps)·γ + β, with μ and σ²
// the mean and (biased) variance over channels. Per-pixel statistics live in tmp.
type layerNormC struct {
	in          Shape
	gamma, beta []float32
	eps         float32
}

// LayerNormC appends a layer normalisation over channels at each pixel (ConvNeXt's LayerNorm on
// channels-last data, or ONNX LayerNormalization on the channel axis). gamma and beta are nil
// (1 and 0) or have C elements.
func (b *Builder) LayerNormC(name string, x Value, gamma, beta []float32, eps float64) Value {
	s := b.shape(x)
	if (gamma != nil && len(gamma) != s.C) || (beta != nil && len(beta) != s.C) {
		return b.fail("%s: layer norm parameters have %d and %d elements, want %d", name, len(gamma), len(beta), s.C)
	}
	if !(eps >= 0) {
		return b.fail("%s: layer norm epsilon %v", name, eps)
	}
	return b.add(name, &layerNormC{in: s, gamma: gamma, beta: beta, eps: float32(eps)}, s, x)
}

func (l *layerNormC) workspace(cap int) (col, tmp int) { return 0, 4 * cap * l.in.H * l.in.W }

// stats writes each pixel's mean and 1/√(σ² + eps) into mu and rs, summing channels in order.
func (l *layerNormC) stats(x *execCtx, n int, src, mu, rs []float32) {
	hw := l.in.H * l.in.W
	ld := x.ld(hw)
	clear(mu)
	clear(rs)
	for c := range l.in.C {
		for i, v := range src[c*ld : c*ld+n*hw] {
			mu[i] += v
		}
	}
	inv := 1 / float32(l.in.C)
	for i := range mu {
		mu[i] *= inv
	}
	for c := range l.in.C {
		for i, v := range src[c*ld : c*ld+n*hw] {
			d := v - mu[i]
			rs[i] += d * d
		}
	}
	for i, v := range rs {
		rs[i] = float32(1 / math.Sqrt(float64(v*inv+l.eps)))
	}
}

func (l *layerNormC) affine(c int) (g, t float32) {
	g, t = 1, 0
	if l.gamma != nil {
		g = l.gamma[c]
	}
	if l.beta != nil {
		t = l.beta[c]
	}
	return g, t
}

func (l *layerNormC) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := l.in.H * l.in.W
	ld := x.ld(hw)
	m := n * hw
	mu, rs := x.tmp[:m], x.tmp[m:2*m]
	l.stats(x, n, in[0], mu, rs)
	for c := range l.in.C {
		g, t := l.affine(c)
		d := out[c*ld : c*ld+m]
		for i, v := range in[0][c*ld : c*ld+m] {
			d[i] = (v-mu[i])*rs[i]*g + t
		}
	}
}

// backward: with x̂ = (x − μ)·r and ĝ = g·γ, the input gradient is r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),
// the means over channels.
func (l *layerNormC) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw := l.in.H * l.in.W
	ld := x.ld(hw)
	m := n * hw
	mu, rs, sg, sgx := x.tmp[:m], x.tmp[m:2*m], x.tmp[2*m:3*m], x.tmp[3*m:4*m]
	l.stats(x, n, in[0], mu, rs)
	clear(sg)
	clear(sgx)
	for c := range l.in.C {
		g, _ := l.affine(c)
		src, gr := in[0][c*ld:c*ld+m], gout[c*ld:c*ld+m]
		for i, v := range gr {
			gh := v * g
			sg[i] += gh
			sgx[i] += gh * (src[i] - mu[i]) * rs[i]
		}
	}
	inv := 1 / float32(l.in.C)
	for i := range sg {
		sg[i] *= inv
		sgx[i] *= inv
	}
	for c := range l.in.C {
		g, _ := l.affine(c)
		src, gr, d := in[0][c*ld:c*ld+m], gout[c*ld:c*ld+m], gin[0][c*ld:c*ld+m]
		for i, v := range gr {
			xh := (src[i] - mu[i]) * rs[i]
			d[i] += rs[i] * (v*g - sg[i] - xh*sgx[i])
		}
	}
}
