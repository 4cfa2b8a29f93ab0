package nn

// A plan is the graph as the executor runs it: batch norms fused into the ReLU or convolutions
// that consume them, dead values dropped, and concatenations laid out in place.
type plan struct {
	steps []step
	// Value v lives in the buffer of value root[v] (itself unless placed inside a concatenation),
	// starting at channel chOff[v]; root[v] < 0 means v is never materialised.
	root, chOff []int
	// gradOwned[v] means one layer alone takes value v's gradient and overwrites it (see
	// conv.gradStore), so a backward pass from the logits need not clear it first.
	gradOwned []bool
	// shape is each value's per-image shape as executed; it differs from the graph's where a
	// rewrite (see poolFirst) changed what the value holds.
	shape []Shape
}

type step struct {
	op  op
	in  []int
	out int
}

func compile(g *Graph) *plan {
	nv := len(g.nodes)
	ops := make([]op, nv)
	inputs := make([][]int, nv)
	shape := make([]Shape, nv)
	for i, nd := range g.nodes {
		ops[i] = nd.op
		inputs[i] = append([]int(nil), nd.inputs...)
		shape[i] = nd.shape
	}
	external := make([]bool, nv)
	external[g.output] = true
	for _, id := range g.taps {
		external[id] = true
	}
	users := func() [][]int {
		u := make([][]int, nv)
		for i := range nv {
			if ops[i] == nil && i != 0 {
				continue
			}
			for _, v := range inputs[i] {
				u[v] = append(u[v], i)
			}
		}
		return u
	}

	// Batch norm feeding only a ReLU: one elementwise pass.
	u := users()
	for i := range nv {
		a, ok := ops[i].(*affine)
		if !ok || external[i] || len(u[i]) != 1 {
			continue
		}
		r := u[i][0]
		if _, ok := ops[r].(relu); !ok {
			continue
		}
		fused := *a
		fused.relu = true
		ops[r], inputs[r] = &fused, inputs[i]
		ops[i] = nil
	}

	// Batch norm (+ReLU) feeding only convolutions: applied inside each convolution as it
	// reads its input, so the normalised value is never stored.
	u = users()
	for i := range nv {
		a, ok := ops[i].(*affine)
		if !ok || external[i] || len(u[i]) == 0 {
			continue
		}
		all := true
		for _, c := range u[i] {
			if _, ok := ops[c].(*conv); !ok {
				all = false
			}
		}
		if !all {
			continue
		}
		for _, c := range u[i] {
			fused := *ops[c].(*conv)
			fused.pre = a
			ops[c], inputs[c] = &fused, inputs[i]
		}
		ops[i] = nil
	}

	poolFirst(ops, inputs, shape, users(), external)

	// Keep only what the output and taps depend on.
	live := make([]bool, nv)
	live[0] = true
	for i := nv - 1; i >= 0; i-- {
		if external[i] {
			live[i] = true
		}
		if live[i] {
			for _, v := range inputs[i] {
				live[v] = true
			}
		}
	}

	p := &plan{root: make([]int, nv), chOff: make([]int, nv), shape: shape}
	for i := range nv {
		p.root[i] = -1
		if live[i] {
			p.root[i] = i
		}
	}
	// Concatenations, last first, so that a chain of them (a dense block) nests in one buffer:
	// when a concatenation is placed, the one containing it already has its final place.
	placed := make([]bool, nv)
	for i := nv - 1; i > 0; i-- {
		k, ok := ops[i].(concat)
		if !ok || !live[i] {
			continue
		}
		k.aliased = make([]bool, len(inputs[i]))
		off := 0
		for j, v := range inputs[i] {
			if v != 0 && !placed[v] && !external[v] {
				placed[v] = true
				k.aliased[j] = true
				p.root[v], p.chOff[v] = p.root[i], p.chOff[i]+off
			}
			off += k.channels[j]
		}
		ops[i] = k
	}

	for i := 1; i < nv; i++ {
		if !live[i] {
			continue
		}
		if c, ok := ops[i].(*conv); ok {
			fused := *c
			fused.prepare()
			ops[i] = &fused
		}
		p.steps = append(p.steps, step{op: ops[i], in: inputs[i], out: i})
	}
	ownGradients(p, external)
	return p
}

// ownGradients lets a convolution whose input, normalised as it is read, has no other consumer
// write that input's gradient instead of adding to it: the buffer is its own (not inside a
// concatenation, not the input or a tap), so the zeroing that accumulation needs is saved. Only
// the Winograd path, which DenseNet's 3×3 convolutions take, implements the overwrite.
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
		if !ok || c.pre == nil || c.bwWino == nil {
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
