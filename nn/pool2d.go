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
	return b.add("maxpool", newMaxPool(w), w.out, x)
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

// maxPool keeps, per output row and column, the window's taps that fall inside the input, so
// that finding a window's maximum checks no bounds.
type maxPool struct {
	window
	ys, xs []tapRange // per output row, per output column
	// s3 marks a 3×3 stride-2 window without dilation whose columns [cx0, cx1), at least 8,
	// lie wholly inside the input: those go to the row kernels of pool_rows.go, where they are
	// vector code (their Go twins, branching on every tap, are slower than plane).
	s3       bool
	cx0, cx1 int
}

// tapRange is the taps [lo, hi) of one window along one axis that land inside the input, and
// the input index of tap 0.
type tapRange struct{ lo, hi, at int }

func newMaxPool(w window) *maxPool {
	m := &maxPool{window: w}
	ranges := func(o, n, s, d, p, k int) []tapRange {
		r := make([]tapRange, o)
		for i := range r {
			at := i*s - p
			lo, hi := 0, k
			for lo < k && at+lo*d < 0 {
				lo++
			}
			for hi > lo && at+(hi-1)*d >= n {
				hi--
			}
			r[i] = tapRange{lo, hi, at}
		}
		return r
	}
	m.ys = ranges(w.out.H, w.in.H, w.sh, w.dh, w.pt, w.kh)
	m.xs = ranges(w.out.W, w.in.W, w.sw, w.dw, w.pl, w.kw)
	if w.kh == 3 && w.kw == 3 && w.sh == 2 && w.sw == 2 && w.dh == 1 && w.dw == 1 {
		m.cx0, m.cx1 = len(m.xs), 0
		for i, x := range m.xs {
			if x.lo == 0 && x.hi == 3 {
				m.cx0, m.cx1 = min(m.cx0, i), i+1
			}
		}
		m.s3 = m.cx1-m.cx0 >= 8 && hasAVX2
	}
	return m
}

// argmax returns the plane index of the first maximum of output pixel (oy, ox) in row-major
// order (the first NaN if there is one), or -1 when the window holds no input pixel.
func (m *maxPool) argmax(src []float32, oy, ox int) int {
	y, x := m.ys[oy], m.xs[ox]
	if y.lo >= y.hi || x.lo >= x.hi {
		return -1
	}
	w := m.in.W
	at := (y.at+y.lo*m.dh)*w + x.at + x.lo*m.dw
	best := src[at]
	if best != best {
		return at
	}
	for i := y.lo; i < y.hi; i++ {
		row := (y.at + i*m.dh) * w
		for j := x.lo; j < x.hi; j++ {
			k := row + x.at + j*m.dw
			if v := src[k]; v > best || v != v {
				best, at = v, k
				if v != v {
					return at
				}
			}
		}
	}
	return at
}

// pixel is output pixel (oy, ox): the value at argmax, or −∞ for a window of padding only.
func (m *maxPool) pixel(src []float32, oy, ox int) float32 {
	if k := m.argmax(src, oy, ox); k >= 0 {
		return src[k]
	}
	return float32(math.Inf(-1))
}

func (m *maxPool) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range m.in.C {
		for b := range n {
			dst, src := out[c*ldo+b*ohw:c*ldo+(b+1)*ohw], in[0][c*ldi+b*hw:c*ldi+(b+1)*hw]
			if m.s3 {
				m.plane3s2(dst, src)
			} else {
				m.plane(dst, src)
			}
		}
	}
}

// plane pools one plane. Each window's maximum is found with the branch-free built-in max,
// which differs from argmax's first maximum only in the sign of a zero maximum (+0 wins) and in
// which NaN wins: those windows, a zero or NaN maximum, go to argmax.
func (m *maxPool) plane(dst, src []float32) {
	w := m.in.W
	for oy := range m.out.H {
		y := m.ys[oy]
		row := dst[oy*m.out.W : (oy+1)*m.out.W]
		for ox := range row {
			xr := m.xs[ox]
			if y.lo >= y.hi || xr.lo >= xr.hi {
				row[ox] = float32(math.Inf(-1))
				continue
			}
			best := src[(y.at+y.lo*m.dh)*w+xr.at+xr.lo*m.dw]
			for i := y.lo; i < y.hi; i++ {
				line := src[(y.at+i*m.dh)*w+xr.at+xr.lo*m.dw:]
				if m.dw == 1 {
					for _, v := range line[:xr.hi-xr.lo] {
						best = max(best, v)
					}
					continue
				}
				for j := range xr.hi - xr.lo {
					best = max(best, line[j*m.dw])
				}
			}
			if best == 0 || best != best {
				best = src[m.argmax(src, oy, ox)]
			}
			row[ox] = best
		}
	}
}

// rows3 returns the plane index of column cx0's window start in each of output row oy's three
// window rows, the first row repeated when padding cuts the window (see pool_rows.go), and
// false when the window holds no input row.
func (m *maxPool) rows3(oy int) (r [3]int, ok bool) {
	y := m.ys[oy]
	if y.lo >= y.hi {
		return r, false
	}
	for i := range r {
		r[i] = (y.at+max(y.lo, y.hi-3+i))*m.in.W + m.xs[m.cx0].at
	}
	return r, true
}

// plane3s2 is plane for s3 windows: their inside columns in a row kernel that finds the first
// maximum itself, so that zeros need no second look; rows holding a NaN, and the columns that
// padding cuts, take argmax.
func (m *maxPool) plane3s2(dst, src []float32) {
	ow := m.out.W
	for oy := range m.out.H {
		row := dst[oy*ow : (oy+1)*ow]
		r, ok := m.rows3(oy)
		if !ok || maxPool3s2(row[m.cx0:m.cx1], src[r[0]:], src[r[1]:], src[r[2]:]) {
			for ox := range row {
				row[ox] = m.pixel(src, oy, ox)
			}
			continue
		}
		for ox := range m.cx0 {
			row[ox] = m.edge(src, r, oy, ox)
		}
		for ox := m.cx1; ox < ow; ox++ {
			row[ox] = m.edge(src, r, oy, ox)
		}
	}
}

// edge is output (oy, ox) of an s3 pooling, a column that padding cuts, from the rows rows3
// returned: the first maximum as the row kernels find it, from −∞ (which a tap replaces unless
// it is −∞ too, the same bits), or pixel's when a tap is NaN.
func (m *maxPool) edge(src []float32, r [3]int, oy, ox int) float32 {
	xr, d := m.xs[ox], 2*(ox-m.cx0)
	acc := float32(math.Inf(-1))
	for _, at := range r {
		for _, v := range src[at+d+xr.lo : at+d+max(xr.lo, xr.hi)] {
			if v > acc {
				acc = v
			} else if v != v {
				return m.pixel(src, oy, ox)
			}
		}
	}
	return acc
}

// first returns the plane index of the first pixel of output (oy, ox)'s window equal to v, in
// row-major order, argmax's when v is NaN, or -1.
func (m *maxPool) first(src []float32, v float32, oy, ox int) int {
	if v != v {
		return m.argmax(src, oy, ox)
	}
	y, xr, w := m.ys[oy], m.xs[ox], m.in.W
	for i := y.lo; i < y.hi; i++ {
		base := (y.at+i*m.dh)*w + xr.at
		for j := xr.lo; j < xr.hi; j++ {
			if src[base+j*m.dw] == v {
				return base + j*m.dw
			}
		}
	}
	return -1
}

// backward sends each output's gradient to its window's first maximum: the first pixel equal to
// the output (argmax's pixel, as equal values compare equal), or argmax's when the output is NaN.
// Each input pixel sums its gradients in output order, row by row.
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
			o := out[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			for oy := range m.out.H {
				if m.s3 {
					m.backRow3s2(d, src, o, g, oy)
					continue
				}
				m.backCols(d, src, o, g, oy, 0, m.out.W)
			}
		}
	}
}

// backCols is backward for the outputs [ox0, ox1) of row oy of one plane.
func (m *maxPool) backCols(d, src, o, g []float32, oy, ox0, ox1 int) {
	for ox := ox0; ox < ox1; ox++ {
		k := oy*m.out.W + ox
		if at := m.first(src, o[k], oy, ox); at >= 0 {
			d[at] += g[k]
		}
	}
}

// backRow3s2 is backward for row oy of an s3 pooling: the row kernel finds the inside columns'
// pixels a chunk at a time (NaN outputs, which match nothing, take argmax's), and their
// gradients are added one by one, in output order. (Adding them in vector code, −0 where
// none goes, measured no faster on Zen 4.)
func (m *maxPool) backRow3s2(d, src, o, g []float32, oy int) {
	r, ok := m.rows3(oy)
	if !ok {
		m.backCols(d, src, o, g, oy, 0, m.out.W)
		return
	}
	var off [9]int
	for t := range off {
		off[t] = r[t/3] + t%3
	}
	ow, n := m.out.W, m.cx1-m.cx0
	orow, grow := o[oy*ow+m.cx0:oy*ow+m.cx1], g[oy*ow+m.cx0:oy*ow+m.cx1]
	m.backCols(d, src, o, g, oy, 0, m.cx0)
	var idx [64]int32
	for i := 0; i < n; {
		c := n - i
		if c > len(idx) {
			c = len(idx)
			if n-i-c < 8 {
				c = n - i - 8 // the kernel takes at least 8
			}
		}
		v, gc := orow[i:i+c], grow[i:i+c]
		maxPoolArg3s2(idx[:c], v, src[r[0]+2*i:], src[r[1]+2*i:], src[r[2]+2*i:])
		for j, t := range idx[:c] {
			if uint32(t) < uint32(len(off)) {
				d[off[t]+2*(i+j)] += gc[j]
			} else if v[j] != v[j] {
				if at := m.argmax(src, oy, m.cx0+i+j); at >= 0 {
					d[at] += gc[j]
				}
			}
		}
		i += c
	}
	m.backCols(d, src, o, g, oy, m.cx1, ow)
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
