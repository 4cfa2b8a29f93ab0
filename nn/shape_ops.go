package nn

// Layers that move elements without arithmetic: slices of one axis, channel permutations
// (ShuffleNet's channel shuffle), spatial padding and flattening. Each backward adds the output
// gradient back onto the element it came from.

// slice keeps start, start+step, … < end along one axis (0 = C, 1 = H, 2 = W).
type slice struct {
	axis, start, step int
	in, out           Shape
}

// Slice appends the elements start, start+step, … below end along axis 0 (C), 1 (H) or 2 (W).
// It needs 0 ≤ start < end ≤ the axis's size and step ≥ 1.
func (b *Builder) Slice(x Value, axis, start, end, step int) Value {
	s := b.shape(x)
	dims := [3]int{s.C, s.H, s.W}
	if axis < 0 || axis > 2 || step < 1 || start < 0 || end > dims[axis] || start >= end {
		return b.fail("slice: axis %d [%d:%d:%d] of %v", axis, start, end, step, s)
	}
	dims[axis] = (end - start + step - 1) / step
	o := Shape{dims[0], dims[1], dims[2]}
	return b.add("slice", &slice{axis: axis, start: start, step: step, in: s, out: o}, o, x)
}

// Split appends consecutive channel slices of the given sizes, which must add up to C.
func (b *Builder) Split(x Value, sizes ...int) []Value {
	s := b.shape(x)
	sum := 0
	for _, k := range sizes {
		if k <= 0 {
			b.fail("split: size %d", k)
			return make([]Value, len(sizes))
		}
		sum += k
	}
	if sum != s.C {
		b.fail("split: sizes %v add up to %d, want %d channels", sizes, sum, s.C)
		return make([]Value, len(sizes))
	}
	vs := make([]Value, len(sizes))
	off := 0
	for i, k := range sizes {
		vs[i] = b.Slice(x, 0, off, off+k, 1)
		off += k
	}
	return vs
}

// offsets returns the input channel and row that output channel c, row y read.
func (s *slice) offsets(c, y int) (ci, iy int) {
	ci, iy = c, y
	switch s.axis {
	case 0:
		ci = s.start + c*s.step
	case 1:
		iy = s.start + y*s.step
	}
	return ci, iy
}

func (s *slice) forward(x *execCtx, n int, in [][]float32, out []float32) {
	s.run(x, n, in[0], out, false)
}

func (s *slice) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] != nil {
		s.run(x, n, gin[0], gout, true)
	}
}

// run copies the sliced elements of src into dst, or with back adds dst's (the output
// gradient) onto them in src (the input gradient).
func (s *slice) run(x *execCtx, n int, src, dst []float32, back bool) {
	hw, ohw := s.in.H*s.in.W, s.out.H*s.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	x0, xs := 0, 1
	if s.axis == 2 {
		x0, xs = s.start, s.step
	}
	for c := range s.out.C {
		for b := range n {
			for y := range s.out.H {
				ci, iy := s.offsets(c, y)
				ir := src[ci*ldi+b*hw+iy*s.in.W:]
				or := dst[c*ldo+b*ohw+y*s.out.W : c*ldo+b*ohw+(y+1)*s.out.W]
				for ox := range or {
					if back {
						ir[x0+ox*xs] += or[ox]
					} else {
						or[ox] = ir[x0+ox*xs]
					}
				}
			}
		}
	}
}

// permute makes output channel i input channel perm[i].
type permute struct {
	perm []int
	hw   int
}

// PermuteChannels appends a reordering of channels: output channel i is input channel perm[i],
// and perm is a permutation of 0…C−1.
func (b *Builder) PermuteChannels(x Value, perm []int) Value {
	s := b.shape(x)
	seen := make([]bool, s.C)
	if len(perm) != s.C {
		return b.fail("permute: %d indices for %d channels", len(perm), s.C)
	}
	for _, p := range perm {
		if p < 0 || p >= s.C || seen[p] {
			return b.fail("permute: %v is not a permutation of %d channels", perm, s.C)
		}
		seen[p] = true
	}
	return b.add("permute", &permute{perm: append([]int(nil), perm...), hw: s.H * s.W}, s, x)
}

// ChannelShuffle appends ShuffleNet's channel shuffle, PyTorch's view(g, C/g) → transpose →
// flatten of the channels: output channel i·g + j is input channel j·(C/g) + i.
func (b *Builder) ChannelShuffle(x Value, groups int) Value {
	s := b.shape(x)
	if groups <= 0 || s.C%groups != 0 {
		return b.fail("channel shuffle: %d groups do not divide %d channels", groups, s.C)
	}
	per := s.C / groups
	perm := make([]int, s.C)
	for i := range per {
		for j := range groups {
			perm[i*groups+j] = j*per + i
		}
	}
	return b.PermuteChannels(x, perm)
}

func (p *permute) forward(x *execCtx, n int, in [][]float32, out []float32) {
	ld := x.ld(p.hw)
	for c, ci := range p.perm {
		copy(out[c*ld:c*ld+n*p.hw], in[0][ci*ld:ci*ld+n*p.hw])
	}
}

func (p *permute) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	ld := x.ld(p.hw)
	for c, ci := range p.perm {
		d := gin[0][ci*ld : ci*ld+n*p.hw]
		for i, v := range gout[c*ld : c*ld+n*p.hw] {
			d[i] += v
		}
	}
}

// pad adds rows and columns around each plane: constant, reflected (without repeating the
// edge) or replicated (edge).
type pad struct {
	t, l  int
	mode  int
	value float32
	in    Shape
	out   Shape
}

const (
	padConstant = iota
	padReflect
	padEdge
)

// Pad appends spatial padding: pads is [top, left, bottom, right] (non-negative) and mode is
// "constant" (with value), "reflect" or "edge", as ONNX's Pad.
func (b *Builder) Pad(x Value, pads [4]int, mode string, value float32) Value {
	s := b.shape(x)
	m := map[string]int{"constant": padConstant, "reflect": padReflect, "edge": padEdge}
	k, ok := m[mode]
	if !ok {
		return b.fail("pad: mode %q not supported", mode)
	}
	if min(pads[0], pads[1], pads[2], pads[3]) < 0 {
		return b.fail("pad: negative pads %v", pads)
	}
	if k == padReflect && (max(pads[0], pads[2]) >= s.H || max(pads[1], pads[3]) >= s.W) {
		return b.fail("pad: reflect pads %v need a plane larger than %v", pads, s)
	}
	o := Shape{s.C, s.H + pads[0] + pads[2], s.W + pads[1] + pads[3]}
	return b.add("pad", &pad{t: pads[0], l: pads[1], mode: k, value: value, in: s, out: o}, o, x)
}

// source returns the input index along an axis of size n for padded index i, or −1 for a
// constant.
func (p *pad) source(i, lo, n int) int {
	j := i - lo
	if j >= 0 && j < n {
		return j
	}
	switch p.mode {
	case padReflect:
		if j < 0 {
			return -j
		}
		return 2*(n-1) - j
	case padEdge:
		return min(max(j, 0), n-1)
	}
	return -1
}

func (p *pad) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := p.in.H*p.in.W, p.out.H*p.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range p.in.C {
		for b := range n {
			src := in[0][c*ldi+b*hw:]
			dst := out[c*ldo+b*ohw:]
			for y := range p.out.H {
				sy := p.source(y, p.t, p.in.H)
				for xx := range p.out.W {
					sx := p.source(xx, p.l, p.in.W)
					v := p.value
					if sy >= 0 && sx >= 0 {
						v = src[sy*p.in.W+sx]
					}
					dst[y*p.out.W+xx] = v
				}
			}
		}
	}
}

func (p *pad) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := p.in.H*p.in.W, p.out.H*p.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	for c := range p.in.C {
		for b := range n {
			d := gin[0][c*ldi+b*hw:]
			g := gout[c*ldo+b*ohw:]
			for y := range p.out.H {
				sy := p.source(y, p.t, p.in.H)
				for xx := range p.out.W {
					if sx := p.source(xx, p.l, p.in.W); sy >= 0 && sx >= 0 {
						d[sy*p.in.W+sx] += g[y*p.out.W+xx]
					}
				}
			}
		}
	}
}

// flatten turns C×H×W into a (C·H·W)×1×1 vector in PyTorch's order.
type flatten struct{ in Shape }

// Flatten appends the flattening of each image into a vector of C·H·W channels, in C×H×W
// order (PyTorch's flatten(1) before a classifier). On a C×1×1 value it is that value.
func (b *Builder) Flatten(x Value) Value {
	s := b.shape(x)
	if s.H == 1 && s.W == 1 {
		return x // a C×1×1 value is already laid out as a vector
	}
	return b.add("flatten", &flatten{in: s}, Shape{s.Size(), 1, 1}, x)
}

func (f *flatten) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw := f.in.H * f.in.W
	ldi, ldo := x.ld(hw), x.ld(1)
	for c := range f.in.C {
		for b := range n {
			for p, v := range in[0][c*ldi+b*hw : c*ldi+(b+1)*hw] {
				out[(c*hw+p)*ldo+b] = v
			}
		}
	}
}

func (f *flatten) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw := f.in.H * f.in.W
	ldi, ldo := x.ld(hw), x.ld(1)
	for c := range f.in.C {
		for b := range n {
			d := gin[0][c*ldi+b*hw : c*ldi+(b+1)*hw]
			for p := range d {
				d[p] += gout[(c*hw+p)*ldo+b]
			}
		}
	}
}
