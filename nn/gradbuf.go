package nn

import "sort"

// Gradient buffers are shared between values whose gradients are never live at the same time.
// A backward pass runs the steps in reverse: the gradient of a root buffer r is first written by
// the backward of the last step that reads r (hi[r]), and last read by the backward of the first
// step that writes r (lo[r]); the input's gradient is read after the last step, and the output's
// and the taps' are written (the seed) before the first. Roots whose intervals [lo, hi] are
// disjoint take the same buffer, which is cleared just before its new tenant's first write
// instead of all buffers at once before the pass, so a deep network's gradients cost a few
// buffers' memory rather than one per value, and each clear runs just before the writes that
// follow it. An owned gradient (see ownGradients and storeGradients) is overwritten by its one
// consumer and not cleared at all. A pass from a tap skips the steps after it: the buffers whose
// intervals straddle the tap are cleared before the seed is written, the others as usual.

// gradPlan is the sharing of gradient buffers, fixed by the plan (sizes are fixed per micro-batch
// capacity in Exec.layOut).
type gradPlan struct {
	lo, hi []int // per root value; hi = len(steps) for the output and taps
	slot   []int // per root value, its shared buffer; -1 for non-roots
	slots  int
	// clearAt[s] lists the roots to clear before step s's backward (not owned ones).
	clearAt [][]int
}

// planGradients computes the intervals and assigns buffers greedily in backward order, each root
// to the free buffer closest in size to its own (per image).
func planGradients(p *plan, external []bool) *gradPlan { return planGradientsWith(p, external, true) }

// planGradientsWith is planGradients, giving every root a buffer of its own unless share (for
// tests that compare the two).
func planGradientsWith(p *plan, external []bool, share bool) *gradPlan {
	nv, ns := len(p.root), len(p.steps)
	gp := &gradPlan{lo: make([]int, nv), hi: make([]int, nv), slot: make([]int, nv), clearAt: make([][]int, ns)}
	for v := range nv {
		gp.lo[v], gp.hi[v], gp.slot[v] = ns, -1, -1
	}
	for s, st := range p.steps {
		if r := p.root[st.out]; r >= 0 {
			gp.lo[r] = min(gp.lo[r], s)
		}
		for _, v := range st.in {
			if r := p.root[v]; r >= 0 {
				gp.hi[r] = max(gp.hi[r], s)
			}
		}
	}
	var roots []int
	for v := range nv {
		if p.root[v] != v {
			continue
		}
		if v == 0 {
			gp.lo[v] = -1 // read by the gather after the last step
		}
		roots = append(roots, v)
	}
	for v := range nv {
		if r := p.root[v]; r >= 0 && external[v] {
			gp.hi[r] = ns
		}
	}
	for _, r := range roots {
		gp.hi[r] = max(gp.hi[r], gp.lo[r]) // a value nothing reads still holds a buffer
		if gp.hi[r] < ns && !p.gradOwned[r] {
			gp.clearAt[gp.hi[r]] = append(gp.clearAt[gp.hi[r]], r)
		}
	}
	gp.assign(p, roots, share)
	return gp
}

// assign gives each root a buffer, in the order their gradients become live.
func (gp *gradPlan) assign(p *plan, roots []int, share bool) {
	sort.SliceStable(roots, func(i, j int) bool { return gp.hi[roots[i]] > gp.hi[roots[j]] })
	var holder []int // per buffer, the root now in it
	var size []int   // per buffer, the largest per-image size it has held
	busy := []int{}  // buffers in use
	free := []int{}  // buffers free
	perImage := func(r int) int { s := p.shape[r]; return s.C * s.H * s.W }
	for _, r := range roots {
		// Buffers whose holder's gradient was last read after r's is first written are free.
		kept := busy[:0]
		for _, b := range busy {
			if gp.lo[holder[b]] > gp.hi[r] {
				free = append(free, b)
			} else {
				kept = append(kept, b)
			}
		}
		busy = kept
		need, best := perImage(r), -1
		for i, b := range free {
			if !share {
				break
			}
			switch {
			case best < 0:
				best = i
			case size[b] >= need && (size[free[best]] < need || size[b] < size[free[best]]):
				best = i
			case size[free[best]] < need && size[b] > size[free[best]]:
				best = i
			}
		}
		var b int
		if best < 0 {
			b = len(holder)
			holder, size = append(holder, r), append(size, need)
		} else {
			b = free[best]
			free = append(free[:best], free[best+1:]...)
			holder[b], size[b] = r, max(size[b], need)
		}
		busy = append(busy, b)
		gp.slot[r] = b
	}
	gp.slots = len(holder)
}

// storeGradients lets the one step that reads a value write its gradient instead of adding to
// it, where that step can (a convolution without a fused normalisation, a residual sum, with or
// without a fused activation): the buffer is then neither cleared nor read before. The value
// must be its own root (not inside a concatenation, not holding one), not the input or external.
func storeGradients(p *plan, external []bool) {
	uses := make([]int, len(p.root))
	members := make([]int, len(p.root))
	for _, r := range p.root {
		if r >= 0 {
			members[r]++
		}
	}
	for _, st := range p.steps {
		for _, v := range st.in {
			uses[v]++
		}
	}
	for i, st := range p.steps {
		for j, v := range st.in {
			if v == 0 || external[v] || p.root[v] != v || members[v] != 1 || uses[v] != 1 || p.gradOwned[v] {
				continue
			}
			if o, ok := storing(st.op, j); ok {
				p.steps[i].op = o
				p.gradOwned[v] = true
				st = p.steps[i]
			}
		}
	}
}

// storing returns o rewritten to write input j's gradient, if o can.
func storing(o op, j int) (op, bool) {
	switch c := o.(type) {
	case *activated:
		inner, ok := storing(c.inner, j)
		if !ok {
			return o, false
		}
		a := *c
		a.inner = inner
		return &a, true
	case *conv:
		if c.pre != nil || c.gradStore {
			return o, false
		}
		s := *c
		s.gradOver = true
		return &s, true
	case add:
		c.store[j] = true
		return c, true
	}
	return o, false
}
