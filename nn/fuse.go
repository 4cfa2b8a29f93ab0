package nn

import "math"

// Activation fusion: a ReLU or Clip (ReLU6) whose input is a convolution's or a residual sum's
// output that nothing else reads runs inside the producing step: on a depthwise convolution's
// output plane while it is in cache, otherwise as one vector pass over the output rows. The
// pre-activation value is then never stored, nor is its gradient, which the backward pass
// would otherwise clear and fill. The gradient needs only the output: for
// y = min(max(x, lo), hi), lo < x < hi exactly when lo < y < hi. Batch norms folded into the
// weights (as an ONNX importer does, and models does for torchvision's ResNets) make
// convolution-ReLU the common pattern of imported networks. Of the seed's networks only the CIFAR
// ResNets change (their residual sum and ReLU become one step); the others normalise between
// convolution and ReLU. Results are those of the separate layers, except that a ReLU of −0 keeps
// its sign and a masked gradient adds +0.

// padBorrower is a layer that borrows the Exec's padded-copy and tile scratch (see
// conv.directScratch).
type padBorrower interface {
	padScratch(cap int) (pad, tile int)
}

// activated is a convolution or a residual sum followed by a fused clamp to [lo, hi] (ReLU:
// [0, +∞)); s is its output's shape.
type activated struct {
	inner  op
	lo, hi float32
	s      Shape
}

func (a *activated) workspace(cap int) (col, tmp int) {
	switch c := a.inner.(type) {
	case *conv:
		return c.scratch(cap)
	case borrower:
		return c.workspace(cap)
	}
	return 0, 0
}

func (a *activated) padScratch(cap int) (pad, tile int) {
	switch c := a.inner.(type) {
	case *conv:
		return c.directScratch(cap)
	case padBorrower:
		return c.padScratch(cap)
	}
	return 0, 0
}

func (a *activated) forward(x *execCtx, n int, in [][]float32, out []float32) {
	if s, ok := a.inner.(add); ok {
		s.sum(x, n, in, out, true, a.lo, a.hi) // one pass instead of two
		return
	}
	a.inner.forward(x, n, in, out)
	switch c := a.inner.(type) {
	case *gconv:
		if c.depthwise {
			return // clamped plane by plane (see gconv.act)
		}
	case *conv:
		return // clamped in the epilogue (see conv.act)
	}
	ld := x.ld(a.s.H * a.s.W)
	for c := range a.s.C {
		row := out[c*ld : c*ld+n*a.s.H*a.s.W]
		clip(row, row, a.lo, a.hi)
	}
}

func (a *activated) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	hw := a.s.H * a.s.W
	ld := x.ld(hw)
	// Only this step reads its output's gradient, so it is masked in place.
	for c := range a.s.C {
		mask(gout[c*ld:c*ld+n*hw], out[c*ld:c*ld+n*hw], a.lo, a.hi)
	}
	a.inner.backward(x, n, in, out, gout, gin)
}

// maskGo zeroes g where y is not strictly inside (lo, hi).
func maskGo(g, y []float32, lo, hi float32) {
	y = y[:len(g)]
	for i, v := range y {
		if !(v > lo && v < hi) {
			g[i] = 0
		}
	}
}

// fuseActivations rewrites the plan's steps: see the top of this file. A convolution's or a
// residual sum's output qualifies when it is its own root (not placed in a concatenation), not
// external, and read by one step only, a ReLU or Clip.
func fuseActivations(p *plan, external []bool) {
	uses := make([]int, len(p.root))
	producer := make([]int, len(p.root))
	for i, st := range p.steps {
		for _, v := range st.in {
			uses[v]++
		}
		producer[st.out] = i
	}
	drop := make([]bool, len(p.steps))
	for i, st := range p.steps {
		var lo, hi float32
		switch u := st.op.(type) {
		case relu:
			lo, hi = 0, float32(math.Inf(1))
		case *unary:
			if u.kind != uClip {
				continue
			}
			lo, hi = u.a, u.b
		default:
			continue
		}
		v := st.in[0]
		if v == 0 || external[v] || uses[v] != 1 || p.root[v] != v || p.gradOwned[v] {
			continue
		}
		j := producer[v]
		var inner op
		switch c := p.steps[j].op.(type) {
		case *conv:
			if c.gradStore {
				continue
			}
			d := *c
			d.act, d.lo, d.hi = true, lo, hi
			inner = &d
		case *gconv:
			if c.depthwise {
				d := *c
				d.act, d.lo, d.hi = true, lo, hi
				inner = &d
			} else {
				inner = c
			}
		case add:
			inner = c
		default:
			continue
		}
		p.steps[j] = step{op: &activated{inner: inner, lo: lo, hi: hi, s: p.shape[v]}, in: p.steps[j].in, out: st.out}
		p.root[v] = -1
		drop[i] = true
	}
	kept := p.steps[:0]
	for i, st := range p.steps {
		if !drop[i] {
			kept = append(kept, st)
		}
	}
	p.steps = kept
}
