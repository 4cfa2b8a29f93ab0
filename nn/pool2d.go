package nn

import "math"

// Pool2D describes a max or average pooling window as ONNX and PyTorch do. Zero strides and
// dilations mean 1; Pads is nil (no padding) or [top, left, bottom, right].
type Pool2D struct {
	KH, KW           int
	StrideH, StrideW int
	Pads             []int
	DilH, DilW       int
	// CeilMode rounds the output size up; a window that would start beyond the input and its
	// leading padding is dropped, as PyTorch does.
	CeilMode bool
	// CountIncludePad (average pooling) divides by the window's size clipped to the padded
	// input rather than by the number of input pixels it covers.
	CountIncludePad bool
}

// window is a normalised Pool2D with its input and output shapes.
type window struct {
	kh, kw, sh, sw, dh, dw, pt, pl, pb, pr int
	in, out                                Shape
}

func or1(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// poolSize is PyTorch's pooling_output_shape.
func poolSize(in, k, s, d, lo, hi int, ceil bool) int {
	num := in + lo + hi - d*(k-1) - 1
	if ceil {
		num += s - 1
	}
	if num < 0 {
		return 0
	}
	o := num/s + 1
	if ceil && (o-1)*s >= in+lo {
		o--
	}
	return o
}

func (b *Builder) window(kind string, x Value, p Pool2D) (window, bool) {
	s := b.shape(x)
	w := window{kh: p.KH, kw: p.KW, sh: or1(p.StrideH), sw: or1(p.StrideW), dh: or1(p.DilH), dw: or1(p.DilW), in: s}
	if p.Pads != nil {
		if len(p.Pads) != 4 {
			b.fail("%s: %d pads, want 4 (top, left, bottom, right)", kind, len(p.Pads))
			return w, false
		}
		w.pt, w.pl, w.pb, w.pr = p.Pads[0], p.Pads[1], p.Pads[2], p.Pads[3]
	}
	if w.kh <= 0 || w.kw <= 0 || w.sh < 0 || w.sw < 0 || w.dh < 0 || w.dw < 0 || min(w.pt, w.pl, w.pb, w.pr) < 0 ||
		w.pt >= w.kh*w.dh || w.pb >= w.kh*w.dh || w.pl >= w.kw*w.dw || w.pr >= w.kw*w.dw {
		b.fail("%s: invalid window %d×%d stride %d×%d dilation %d×%d pads %v", kind, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, p.Pads)
		return w, false
	}
	oh := poolSize(s.H, w.kh, w.sh, w.dh, w.pt, w.pb, p.CeilMode)
	ow := poolSize(s.W, w.kw, w.sw, w.dw, w.pl, w.pr, p.CeilMode)
	if oh <= 0 || ow <= 0 {
		b.fail("%s: %d×%d window does not fit input %v", kind, w.kh, w.kw, s)
		return w, false
	}
	w.out = Shape{s.C, oh, ow}
	return w, true
}

// MaxPool appends a max pooling. Padding never wins (it counts as −∞); the gradient goes to
// the first maximum of each window in row-major order.
func (b *Builder) MaxPool(x Value, p Pool2D) Value {
	w, ok := b.window("maxpool", x, p)
	if !ok {
		return Value{0}
	}
	return b.add("maxpool", &maxPool{w}, w.out, x)
}

// AvgPool2d appends an average pooling (without dilation).
func (b *Builder) AvgPool2d(x Value, p Pool2D) Value {
	if or1(p.DilH) != 1 || or1(p.DilW) != 1 {
		return b.fail("avgpool: dilation %d×%d not supported", p.DilH, p.DilW)
	}
	w, ok := b.window("avgpool", x, p)
	if !ok {
		return Value{0}
	}
	return b.add("avgpool", &avgPool2d{window: w, includePad: p.CountIncludePad}, w.out, x)
}

// span returns the input range [lo, hi) of window index o along one axis and the padded end,
// for kernel k, stride s, dilation 1 and leading pad p over n inputs with trailing pad q.
func span(o, k, s, p, n, q int) (lo, hi, end int) {
	lo = o*s - p
	end = min(lo+k, n+q)
	hi = min(lo+k, n)
	return max(lo, 0), hi, end
}

type maxPool struct{ window }

// argmax returns the plane index of the first maximum of output pixel (oy, ox), or -1 when the
// window holds no input pixel.
func (w *window) argmax(src []float32, oy, ox int) int {
	best, at := float32(math.Inf(-1)), -1
	for i := range w.kh {
		iy := oy*w.sh - w.pt + i*w.dh
		if iy < 0 || iy >= w.in.H {
			continue
		}
		for j := range w.kw {
			ix := ox*w.sw - w.pl + j*w.dw
			if ix < 0 || ix >= w.in.W {
				continue
			}
			k := iy*w.in.W + ix
			if v := src[k]; at < 0 || v > best || v != v {
				best, at = v, k
				if v != v {
					return at
				}
			}
		}
	}
	return at
}

func (m *maxPool) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range m.in.C {
		for b := range n {
			src := in[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			dst := out[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range m.out.H {
				for ox := range m.out.W {
					v := float32(math.Inf(-1))
					if k := m.argmax(src, oy, ox); k >= 0 {
						v = src[k]
					}
					dst[oy*m.out.W+ox] = v
				}
			}
		}
	}
}

func (m *maxPool) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range m.in.C {
		for b := range n {
			src := in[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			d := gin[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			g := gout[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range m.out.H {
				for ox := range m.out.W {
					if k := m.argmax(src, oy, ox); k >= 0 {
						d[k] += g[oy*m.out.W+ox]
					}
				}
			}
		}
	}
}

type avgPool2d struct {
	window
	includePad bool
}

// divisor is what output pixel (oy, ox)'s sum is divided by.
func (a *avgPool2d) divisor(oy, ox int) float32 {
	y0, y1, ye := span(oy, a.kh, a.sh, a.pt, a.in.H, a.pb)
	x0, x1, xe := span(ox, a.kw, a.sw, a.pl, a.in.W, a.pr)
	if a.includePad {
		return float32((ye - (oy*a.sh - a.pt)) * (xe - (ox*a.sw - a.pl)))
	}
	return float32(max(y1-y0, 0) * max(x1-x0, 0))
}

func (a *avgPool2d) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := a.in.H*a.in.W, a.out.H*a.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range a.in.C {
		for b := range n {
			src := in[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			dst := out[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range a.out.H {
				y0, y1, _ := span(oy, a.kh, a.sh, a.pt, a.in.H, a.pb)
				for ox := range a.out.W {
					x0, x1, _ := span(ox, a.kw, a.sw, a.pl, a.in.W, a.pr)
					var s float32
					for iy := y0; iy < y1; iy++ {
						for _, v := range src[iy*a.in.W+x0 : iy*a.in.W+max(x0, x1)] {
							s += v
						}
					}
					if d := a.divisor(oy, ox); d > 0 {
						s /= d
					}
					dst[oy*a.out.W+ox] = s
				}
			}
		}
	}
}

func (a *avgPool2d) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := a.in.H*a.in.W, a.out.H*a.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range a.in.C {
		for b := range n {
			d := gin[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			g := gout[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range a.out.H {
				y0, y1, _ := span(oy, a.kh, a.sh, a.pt, a.in.H, a.pb)
				for ox := range a.out.W {
					x0, x1, _ := span(ox, a.kw, a.sw, a.pl, a.in.W, a.pr)
					v := g[oy*a.out.W+ox]
					if dv := a.divisor(oy, ox); dv > 0 {
						v /= dv
					}
					for iy := y0; iy < y1; iy++ {
						row := d[iy*a.in.W : (iy+1)*a.in.W]
						for ix := x0; ix < x1; ix++ {
							row[ix] += v
						}
					}
				}
			}
		}
	}
}
