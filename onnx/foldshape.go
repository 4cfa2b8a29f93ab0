package onnx

import (
	"fmt"
	"math"
)

// foldShape evaluates the shape-moving operators on constants.
func (l *loader) foldShape(n *Node, in []*tensor) (*tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 missing")
	}
	x := in[0]
	switch n.OpType {
	case "Gather":
		return gather(x, in, int(n.attrInt("axis", 0)))
	case "Unsqueeze", "Squeeze":
		axes, err := axesOf(n, in, 1)
		if err != nil {
			return nil, err
		}
		var dims []int
		if n.OpType == "Unsqueeze" {
			dims, err = unsqueezeDims(x.dims, axes)
		} else {
			dims, err = squeezeDims(x.dims, axes)
		}
		if err != nil {
			return nil, err
		}
		return reshaped(x, dims), nil
	case "Concat":
		return concatConst(in, int(n.attrInt("axis", 0)))
	case "Reshape":
		if len(in) < 2 || in[1] == nil {
			return nil, fmt.Errorf("shape input missing")
		}
		target, err := intsOf(in[1])
		if err != nil {
			return nil, err
		}
		dims, err := reshapeDims(x.dims, target, n.attrInt("allowzero", 0) != 0)
		if err != nil {
			return nil, err
		}
		return reshaped(x, dims), nil
	case "Flatten":
		a, err := axis(int(n.attrInt("axis", 1)), len(x.dims)+1)
		if err != nil {
			return nil, err
		}
		return reshaped(x, []int{prod(x.dims[:a]), prod(x.dims[a:])}), nil
	case "Slice":
		return l.sliceConst(n, in)
	case "Transpose":
		perm, err := permOf(n, len(x.dims))
		if err != nil {
			return nil, err
		}
		return transposeConst(x, perm), nil
	case "Range":
		return l.rangeConst(in)
	case "Expand":
		if len(in) < 2 || in[1] == nil {
			return nil, fmt.Errorf("shape input missing")
		}
		shape, err := intsOf(in[1])
		if err != nil {
			return nil, err
		}
		dims, err := broadcastDims(x.dims, shape)
		if err != nil {
			return nil, err
		}
		if err := l.checkSize(dims); err != nil {
			return nil, err
		}
		t := newTensor(dims, x.isInt)
		for k := range t.size() {
			j := bindex(k, dims, x.dims)
			if t.isInt {
				t.i[k] = x.i[j]
			} else {
				t.f[k] = x.f[j]
			}
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot evaluate %s on constants", n.OpType)
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

func reshaped(x *tensor, dims []int) *tensor {
	return &tensor{dims: dims, f: x.f, i: x.i, isInt: x.isInt}
}

// axesOf reads the axes of Squeeze, Unsqueeze or Reduce*: an attribute before opset 13 (18 for
// reductions), an input from then on.
func axesOf(n *Node, in []*tensor, input int) ([]int, error) {
	if a, ok := n.attrInts("axes"); ok {
		return ints(a)
	}
	if input < len(in) && in[input] != nil {
		return intsOf(in[input])
	}
	return nil, nil
}

func unsqueezeDims(dims []int, axes []int) ([]int, error) {
	r := len(dims) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		a, err := axis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[a] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		ins[a] = true
	}
	out := make([]int, 0, r)
	k := 0
	for i := range r {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, dims[k])
			k++
		}
	}
	return out, nil
}

func squeezeDims(dims []int, axes []int) ([]int, error) {
	drop := make([]bool, len(dims))
	if len(axes) == 0 {
		for i, d := range dims {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		a, err := axis(a, len(dims))
		if err != nil {
			return nil, err
		}
		if dims[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of size %d", a, dims[a])
		}
		drop[a] = true
	}
	var out []int
	for i, d := range dims {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// reshapeDims resolves a Reshape target: 0 copies the input's dimension (unless allowzero), −1
// takes what is left.
func reshapeDims(in, target []int, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer := -1
	known := 1
	for i, t := range target {
		switch {
		case t == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("reshape %v: no dimension %d to copy", target, i)
			}
			out[i] = in[i]
		case t == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("reshape %v: two dimensions to infer", target)
			}
			infer = i
			continue
		case t < 0:
			return nil, fmt.Errorf("reshape %v: invalid dimension %d", target, t)
		default:
			out[i] = t
		}
		if out[i] > 0 && known > math.MaxInt32*int(1<<16)/out[i] {
			return nil, fmt.Errorf("reshape %v: too large", target)
		}
		known *= out[i]
	}
	total := prod(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v to %v", in, target)
	}
	return out, nil
}

func gather(x *tensor, in []*tensor, ax int) (*tensor, error) {
	if len(in) < 2 || in[1] == nil {
		return nil, fmt.Errorf("indices missing")
	}
	idx, err := intsOf(in[1])
	if err != nil {
		return nil, err
	}
	a, err := axis(ax, len(x.dims))
	if err != nil {
		return nil, err
	}
	d := x.dims[a]
	for k, v := range idx {
		if v < 0 {
			v += d
		}
		if v < 0 || v >= d {
			return nil, fmt.Errorf("index %d out of range for dimension %d", idx[k], d)
		}
		idx[k] = v
	}
	outer, inner := prod(x.dims[:a]), prod(x.dims[a+1:])
	dims := append(append(append([]int(nil), x.dims[:a]...), in[1].dims...), x.dims[a+1:]...)
	t := newTensor(dims, x.isInt)
	k := 0
	for o := range outer {
		for _, v := range idx {
			src := (o*d + v) * inner
			if t.isInt {
				copy(t.i[k:k+inner], x.i[src:src+inner])
			} else {
				copy(t.f[k:k+inner], x.f[src:src+inner])
			}
			k += inner
		}
	}
	return t, nil
}

func concatConst(in []*tensor, ax int) (*tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("nothing to concatenate")
	}
	r := len(in[0].dims)
	a, err := axis(ax, r)
	if err != nil {
		return nil, err
	}
	dims := append([]int(nil), in[0].dims...)
	dims[a] = 0
	isInt := true
	for _, t := range in {
		if t == nil || len(t.dims) != r {
			return nil, fmt.Errorf("concatenating tensors of different ranks")
		}
		for i := range r {
			if i != a && t.dims[i] != dims[i] {
				return nil, fmt.Errorf("concatenating %v and %v on axis %d", in[0].dims, t.dims, a)
			}
		}
		dims[a] += t.dims[a]
		isInt = isInt && t.isInt
	}
	out := newTensor(dims, isInt)
	outer := prod(dims[:a])
	k := 0
	for o := range outer {
		for _, t := range in {
			m := prod(t.dims[a:])
			for j := range m {
				if isInt {
					out.i[k] = t.i[o*m+j]
				} else {
					out.f[k] = float32(t.get(o*m + j))
				}
				k++
			}
		}
	}
	return out, nil
}

// sliceSpec is one axis of a Slice: start, step and count of elements taken.
type sliceSpec struct{ start, step, count int }

// sliceArgs reads a Slice's starts, ends, axes and steps (attributes before opset 10) and
// resolves them against dims as ONNX specifies: negatives count from the end, and bounds clamp.
func sliceArgs(n *Node, in []*tensor, dims []int) (map[int]sliceSpec, error) {
	var starts, ends, axes, steps []int
	var err error
	if a, ok := n.attrInts("starts"); ok {
		if starts, err = ints(a); err != nil {
			return nil, err
		}
		e, _ := n.attrInts("ends")
		if ends, err = ints(e); err != nil {
			return nil, err
		}
		if ax, ok := n.attrInts("axes"); ok {
			if axes, err = ints(ax); err != nil {
				return nil, err
			}
		}
	} else {
		get := func(i int) ([]int, error) {
			if i < len(in) && in[i] != nil {
				return intsOf(in[i])
			}
			return nil, nil
		}
		if starts, err = get(1); err != nil {
			return nil, err
		}
		if ends, err = get(2); err != nil {
			return nil, err
		}
		if axes, err = get(3); err != nil {
			return nil, err
		}
		if steps, err = get(4); err != nil {
			return nil, err
		}
	}
	if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("slice: starts, ends, axes and steps differ in length")
	}
	out := map[int]sliceSpec{}
	for i := range starts {
		a := i
		if axes != nil {
			a = axes[i]
		}
		if a, err = axis(a, len(dims)); err != nil {
			return nil, err
		}
		step := 1
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("slice: step 0")
		}
		d := dims[a]
		s, e := starts[i], ends[i]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var count int
		if step > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			count = max(0, (e-s+step-1)/step)
		} else {
			s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
			count = max(0, (s-e+(-step)-1)/(-step))
		}
		if _, dup := out[a]; dup {
			return nil, fmt.Errorf("slice: axis %d repeated", a)
		}
		out[a] = sliceSpec{start: s, step: step, count: count}
	}
	return out, nil
}

func (l *loader) sliceConst(n *Node, in []*tensor) (*tensor, error) {
	x := in[0]
	spec, err := sliceArgs(n, in, x.dims)
	if err != nil {
		return nil, err
	}
	r := len(x.dims)
	dims := append([]int(nil), x.dims...)
	for a, s := range spec {
		dims[a] = s.count
	}
	t := newTensor(dims, x.isInt)
	strides := make([]int, r)
	st := 1
	for i := r - 1; i >= 0; i-- {
		strides[i] = st
		st *= x.dims[i]
	}
	for k := range t.size() {
		rem, src := k, 0
		for i := r - 1; i >= 0; i-- {
			c := rem % dims[i]
			rem /= dims[i]
			if s, ok := spec[i]; ok {
				c = s.start + c*s.step
			}
			src += c * strides[i]
		}
		if t.isInt {
			t.i[k] = x.i[src]
		} else {
			t.f[k] = x.f[src]
		}
	}
	return t, nil
}

func permOf(n *Node, rank int) ([]int, error) {
	p, ok := n.attrInts("perm")
	if !ok {
		perm := make([]int, rank)
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	perm, err := ints(p)
	if err != nil {
		return nil, err
	}
	seen := make([]bool, rank)
	if len(perm) != rank {
		return nil, fmt.Errorf("perm %v for rank %d", perm, rank)
	}
	for _, a := range perm {
		if a < 0 || a >= rank || seen[a] {
			return nil, fmt.Errorf("invalid perm %v", perm)
		}
		seen[a] = true
	}
	return perm, nil
}

func transposeConst(x *tensor, perm []int) *tensor {
	r := len(x.dims)
	dims := make([]int, r)
	for i, p := range perm {
		dims[i] = x.dims[p]
	}
	strides := make([]int, r)
	st := 1
	for i := r - 1; i >= 0; i-- {
		strides[i] = st
		st *= x.dims[i]
	}
	t := newTensor(dims, x.isInt)
	for k := range t.size() {
		rem, src := k, 0
		for i := r - 1; i >= 0; i-- {
			c := rem % dims[i]
			rem /= dims[i]
			src += c * strides[perm[i]]
		}
		if t.isInt {
			t.i[k] = x.i[src]
		} else {
			t.f[k] = x.f[src]
		}
	}
	return t
}

func (l *loader) rangeConst(in []*tensor) (*tensor, error) {
	if len(in) != 3 || in[1] == nil || in[2] == nil {
		return nil, fmt.Errorf("Range needs three inputs")
	}
	s, e, d := in[0].get(0), in[1].get(0), in[2].get(0)
	if d == 0 {
		return nil, fmt.Errorf("Range with delta 0")
	}
	cnt := math.Ceil((e - s) / d)
	if cnt < 0 {
		cnt = 0
	}
	if !(cnt <= float64(l.limit)) {
		return nil, fmt.Errorf("Range of %g elements exceeds the limit", cnt)
	}
	t := newTensor([]int{int(cnt)}, in[0].isInt)
	for k := range int(cnt) {
		v := s + float64(k)*d
		if t.isInt {
			t.i[k] = int64(v)
		} else {
			t.f[k] = float32(v)
		}
	}
	return t, nil
}
