package nn

// Values that no backward pass reads share buffers. A value is transient when the backward of
// its producer and of every consumer reads only gradients (a convolution without a fused
// normalisation, a residual sum, a pooling that keeps no argmax…), it is not the input, the
// output or a tap, and it is not laid out inside a concatenation. Its buffer is then needed
// only from its producer's step to its last consumer's, and transient values whose spans are
// disjoint take the same buffer. In ResNet-50 the last convolution of each bottleneck and the
// projection shortcut, which feed only the residual sum, become transient: about a third of its
// activations.

// backReads reports whether o's backward pass reads its inputs' values and its output's value.
// Layers it does not know read both.
func backReads(o op) (in, out bool) {
	switch c := o.(type) {
	case *activated:
		in, _ = backReads(c.inner)
		return in, true // the clamp's mask
	case *conv:
		return c.pre != nil, false
	case *gconv, add, *linear, *globalPool:
		return false, false
	case *maxPool:
		return true, true // the input, searched for the output's value
	}
	return true, true
}

// overwrites reports whether o's forward pass writes every element of its output's first n
// images without reading it, so that its buffer may hold another value's leftovers.
func overwrites(o op) bool {
	switch c := o.(type) {
	case *activated:
		return overwrites(c.inner)
	case *conv, *gconv, add, *linear, *globalPool, *maxPool:
		return true
	}
	return false
}

// planValues gives each transient root a shared buffer (p.valSlot, -1 for the others), greedily
// in forward order, each to the free buffer closest in size to its own.
func planValues(p *plan, external []bool) {
	nv := len(p.root)
	p.valSlot = make([]int, nv)
	transient := make([]bool, nv)
	first, last := make([]int, nv), make([]int, nv)
	members := make([]int, nv)
	for v := range nv {
		p.valSlot[v], first[v], last[v] = -1, -1, -1
		if r := p.root[v]; r >= 0 {
			members[r]++
		}
	}
	for v := 1; v < nv; v++ {
		transient[v] = p.root[v] == v && members[v] == 1 && !external[v]
	}
	for s, st := range p.steps {
		in, out := backReads(st.op)
		if out || !overwrites(st.op) {
			transient[st.out] = false
		}
		first[st.out] = s
		for _, v := range st.in {
			last[v] = s
			if in {
				transient[v] = false
			}
		}
	}
	var holder, size []int
	perImage := func(r int) int { s := p.shape[r]; return s.C * s.H * s.W }
	for s, st := range p.steps {
		v := st.out
		if !transient[v] || first[v] != s || last[v] < s {
			continue
		}
		need, best := perImage(v), -1
		for b, h := range holder {
			if last[h] >= s {
				continue // still in use
			}
			switch {
			case best < 0:
				best = b
			case size[b] >= need && (size[best] < need || size[b] < size[best]):
				best = b
			case size[best] < need && size[b] > size[best]:
				best = b
			}
		}
		if best < 0 {
			best = len(holder)
			holder, size = append(holder, v), append(size, need)
		} else {
			holder[best], size[best] = v, max(size[best], need)
		}
		p.valSlot[v] = best
	}
	p.valSlots = len(holder)
}
