package nn

// A plan is the graph as the executor runs it: batch norms fused into the ReLU or convolutions
// that consume them, dead values dropped, and concatenations laid out in place.
type plan struct {
	steps []step
	// Value v lives in the buffer of value root[v] (itself unless placed inside a concatenation),
	// starting at channel chOff[v]; root[v] < 0 means v is never materialised.
	root, chOff []int
	// gradOwned[v] means one layer alone takes value v's gradient and overwrites it (see
	// conv.gradStore and storeGradients), so a backward pass need not clear it first.
	gradOwned []bool
	// grads is the sharing of gradient buffers between values (gradbuf.go).
	grads *gradPlan
	// valSlot[v] is the shared buffer of a transient value (valbuf.go), -1 for the others.
	valSlot  []int
	valSlots int
	// shape is each value's per-image shape as executed; it differs from the graph's where a
	// rewrite (see poolFirst) changed what the value holds.
	shape []Shape
}

type step struct {
	op  op
	in  []int
	out int
}

// compile turns a graph into its execution plan: it fuses batch norms into what reads them,
// pools transitions first, drops what nothing needs, nests concatenations in place and orders
// the steps (see the package documentation).
func compile(g *Graph) *plan {
	w := newRewrite(g)
	w.fuseReLU()
	w.fuseIntoConv()
	poolFirst(w.ops, w.inputs, w.shape, w.users(), w.external)
	live := w.live()
	p := &plan{root: make([]int, len(w.ops)), chOff: make([]int, len(w.ops)), shape: w.shape}
	for i := range p.root {
		p.root[i] = -1
		if live[i] {
			p.root[i] = i
		}
	}
	w.placeConcats(p, live)
	w.schedule(p, live)
	ownGradients(p, w.external)
	fuseActivations(p, w.external) // fuse.go
	storeGradients(p, w.external)  // gradbuf.go
	p.grads = planGradients(p, w.external)
	planValues(p, w.external)
	return p
}

// rewrite is a graph's nodes while compile rewrites them: a nil op is a node fused away.
type rewrite struct {
	ops      []op
	inputs   [][]int
	shape    []Shape
	external []bool // the output and the taps, which must stay as they are
}

func newRewrite(g *Graph) *rewrite {
	nv := len(g.nodes)
	w := &rewrite{ops: make([]op, nv), inputs: make([][]int, nv), shape: make([]Shape, nv), external: make([]bool, nv)}
	for i, nd := range g.nodes {
		w.ops[i] = nd.op
		w.inputs[i] = append([]int(nil), nd.inputs...)
		w.shape[i] = nd.shape
	}
	w.external[g.output] = true
	for _, id := range g.taps {
		w.external[id] = true
	}
	return w
}

// users lists, for each value, the nodes still present that read it.
func (w *rewrite) users() [][]int {
	u := make([][]int, len(w.ops))
	for i := range w.ops {
		if w.ops[i] == nil && i != 0 {
			continue
		}
		for _, v := range w.inputs[i] {
			u[v] = append(u[v], i)
		}
	}
	return u
}

// fuseReLU makes a batch norm feeding only a ReLU one elementwise pass.
func (w *rewrite) fuseReLU() {
	u := w.users()
	for i := range w.ops {
		a, ok := w.ops[i].(*affine)
		if !ok || w.external[i] || len(u[i]) != 1 {
			continue
		}
		r := u[i][0]
		if _, ok := w.ops[r].(relu); !ok {
			continue
		}
		fused := *a
		fused.relu = true
		w.ops[r], w.inputs[r] = &fused, w.inputs[i]
		w.ops[i] = nil
	}
}

// fuseIntoConv applies a batch norm (+ReLU) feeding only convolutions inside each convolution
// as it reads its input, so the normalised value is never stored.
func (w *rewrite) fuseIntoConv() {
	u := w.users()
	for i := range w.ops {
		a, ok := w.ops[i].(*affine)
		if !ok || w.external[i] || len(u[i]) == 0 {
			continue
		}
		all := true
		for _, c := range u[i] {
			if _, ok := w.ops[c].(*conv); !ok {
				all = false
			}
		}
		if !all {
			continue
		}
		for _, c := range u[i] {
			fused := *w.ops[c].(*conv)
			fused.pre = a
			w.ops[c], w.inputs[c] = &fused, w.inputs[i]
		}
		w.ops[i] = nil
	}
}

// live marks what the output and taps depend on; the rest is dropped.
func (w *rewrite) live() []bool {
	live := make([]bool, len(w.ops))
	live[0] = true
	for i := len(w.ops) - 1; i >= 0; i-- {
		if w.external[i] {
			live[i] = true
		}
		if live[i] {
			for _, v := range w.inputs[i] {
				live[v] = true
			}
		}
	}
	return live
}

// placeConcats lays the inputs of concatenations out inside the concatenation's buffer, last
// first, so that a chain of them (a dense block) nests in one buffer: when a concatenation is
// placed, the one containing it already has its final place.
func (w *rewrite) placeConcats(p *plan, live []bool) {
	placed := make([]bool, len(w.ops))
	for i := len(w.ops) - 1; i > 0; i-- {
		k, ok := w.ops[i].(concat)
		if !ok || !live[i] {
			continue
		}
		k.aliased = make([]bool, len(w.inputs[i]))
		off := 0
		for j, v := range w.inputs[i] {
			if v != 0 && !placed[v] && !w.external[v] {
				placed[v] = true
				k.aliased[j] = true
				p.root[v], p.chOff[v] = p.root[i], p.chOff[i]+off
			}
			off += k.channels[j]
		}
		w.ops[i] = k
	}
}

// schedule makes the live nodes the plan's steps, in order, preparing each convolution.
func (w *rewrite) schedule(p *plan, live []bool) {
	for i := 1; i < len(w.ops); i++ {
		if !live[i] {
			continue
		}
		if c, ok := w.ops[i].(*conv); ok {
			fused := *c
			fused.prepare()
			w.ops[i] = &fused
		}
		p.steps = append(p.steps, step{op: w.ops[i], in: w.inputs[i], out: i})
	}
}

// ownGradients lets a convolution whose input, normalised as it is read, has no other consumer
// write that input's gradient instead of adding to it: the buffer is its own (not inside a
// concatenation, not the input or a tap), so the zeroing that accumulation needs is saved. With
// the normalisation, only the Winograd path, which DenseNet's 3×3 convolutions take, implements
// the overwrite; storeGradients (gradbuf.go) does the same for layers without one.
func ownGradients(p *plan, external []bool) {
	uses := make([]int, len(p.root))
	for _, st := range p.steps {
		for _, v := range st.in {
			uses[v]++
		}
	}
	p.gradOwned = make([]bool, len(p.root))
	for i, st := range p.steps {
		c, ok := st.op.(*conv)
		if !ok || c.pre == nil || (c.bwWino == nil && !c.bwAdjoint) {
			continue
		}
		v := st.in[0]
		if v == 0 || external[v] || p.root[v] != v || uses[v] != 1 {
			continue
		}
		owner := *c
		owner.gradStore = true
		p.steps[i].op = &owner
		p.gradOwned[v] = true
	}
}

// poolFirst rewrites a 1×1 stride-1 convolution whose output feeds only an average pool (a
// DenseNet transition) to pool first: value i, the convolution's output, becomes the pooled
// (normalised) input, and the pool's node becomes the convolution of it. Both layers are linear
// per pixel and per channel, so they commute (a bias too, as a mean of constants is the
// constant), and the product then runs on a quarter of the pixels, forward and backward. The
// sums are taken in another order, so results differ from the unrewritten graph's by rounding.
func poolFirst(ops []op, inputs [][]int, shape []Shape, users [][]int, external []bool) {
	for i := range ops {
		c, ok := ops[i].(*conv)
		if !ok || external[i] || len(users[i]) != 1 || c.kh != 1 || c.kw != 1 || c.stride != 1 || c.pad != 0 {
			continue
		}
		j := users[i][0]
		pool, ok := ops[j].(*avgPool)
		if !ok || pool.pre != nil {
			continue
		}
		pooled := Shape{c.in.C, c.in.H / pool.k, c.in.W / pool.k}
		ops[i] = &avgPool{k: pool.k, in: c.in, pre: c.pre}
		shape[i] = pooled
		fc := *c
		fc.pre, fc.in, fc.out = nil, pooled, Shape{c.cout, pooled.H, pooled.W}
		ops[j], inputs[j] = &fc, []int{i}
	}
}
