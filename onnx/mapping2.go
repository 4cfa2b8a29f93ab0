package onnx

import (
	"fmt"

	"github.com/odin-ood/odin/nn"
)

// spatial reads a 2-D attribute (kernel_shape, strides, dilations) with a default.
func spatial(n *Node, name string, def int) ([2]int, error) {
	a, ok := n.attrInts(name)
	if !ok {
		return [2]int{def, def}, nil
	}
	if len(a) != 2 {
		return [2]int{}, fmt.Errorf("%s %v: only 2-D images are supported", name, a)
	}
	v, err := ints(a)
	if err != nil {
		return [2]int{}, err
	}
	if v[0] <= 0 || v[1] <= 0 || v[0] > 1<<16 || v[1] > 1<<16 {
		return [2]int{}, fmt.Errorf("%s %v invalid", name, a)
	}
	return [2]int{v[0], v[1]}, nil
}

// padsOf resolves pads and auto_pad into [top, left, bottom, right] for input plane h×w.
func padsOf(n *Node, h, w int, k, s, d [2]int) ([]int, error) {
	switch ap := n.attrString("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		a, ok := n.attrInts("pads")
		if !ok {
			return []int{0, 0, 0, 0}, nil
		}
		if len(a) != 4 {
			return nil, fmt.Errorf("pads %v: want 4", a)
		}
		p, err := ints(a)
		if err != nil {
			return nil, err
		}
		// ONNX orders pads [top, left, bottom, right] (begins, then ends), as nn does.
		for _, v := range p {
			if v < 0 || v > 1<<16 {
				return nil, fmt.Errorf("pads %v invalid", a)
			}
		}
		return p, nil
	case "VALID":
		return []int{0, 0, 0, 0}, nil
	case "SAME_UPPER", "SAME_LOWER":
		var p [4]int
		for i, in := range []int{h, w} {
			out := (in + s[i] - 1) / s[i]
			total := max(0, (out-1)*s[i]+(k[i]-1)*d[i]+1-in)
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			p[i], p[i+2] = lo, total-lo
		}
		return p[:], nil
	default:
		return nil, fmt.Errorf("auto_pad %q not supported", ap)
	}
}

func (l *loader) conv(n *Node, x *dyn, c []*tensor) error {
	if err := l.need4(x); err != nil {
		return err
	}
	if c[1] == nil || c[1].isInt || len(c[1].dims) != 4 {
		return fmt.Errorf("weight must be a constant float tensor of rank 4")
	}
	wd := c[1].dims
	groups := int(n.attrInt("group", 1))
	in := l.b.Shape(x.v)
	if groups <= 0 || in.C%groups != 0 || wd[1]*groups != in.C {
		return fmt.Errorf("weight %v with %d groups does not fit %d input channels", wd, groups, in.C)
	}
	k, err := spatial(n, "kernel_shape", 0)
	if err != nil {
		return err
	}
	if k[0] == 0 {
		k = [2]int{wd[2], wd[3]}
	}
	if k[0] != wd[2] || k[1] != wd[3] {
		return fmt.Errorf("kernel_shape %v disagrees with weight %v", k, wd)
	}
	s, err := spatial(n, "strides", 1)
	if err != nil {
		return err
	}
	d, err := spatial(n, "dilations", 1)
	if err != nil {
		return err
	}
	pads, err := padsOf(n, in.H, in.W, k, s, d)
	if err != nil {
		return err
	}
	cv := nn.Conv{Out: wd[0], KH: k[0], KW: k[1], Stride: s[0], StrideW: s[1], DilH: d[0], DilW: d[1],
		Groups: groups, Pads: pads, Weight: c[1].f}
	if n.input(2) != "" {
		if cv.Bias, err = floats(c, 2, wd[0], "bias"); err != nil {
			return err
		}
	}
	v := l.b.Conv2d(n.Name, x.v, cv)
	if l.b.Err() != nil {
		return nil
	}
	o := l.b.Shape(v)
	l.rep.FLOPs += 2 * int64(o.Size()) * int64(wd[1]*k[0]*k[1])
	kind := "Conv"
	switch {
	case groups > 1 && groups == in.C:
		kind = "Conv (depthwise)"
	case groups > 1:
		kind = "Conv (grouped)"
	}
	l.set(n, l.layer(kind, v, 4))
	return nil
}

func (l *loader) pool(n *Node, x *dyn) error {
	if err := l.need4(x); err != nil {
		return err
	}
	in := l.b.Shape(x.v)
	k, err := spatial(n, "kernel_shape", 0)
	if err != nil {
		return err
	}
	if k[0] == 0 {
		return fmt.Errorf("kernel_shape missing")
	}
	s, err := spatial(n, "strides", 1)
	if err != nil {
		return err
	}
	d, err := spatial(n, "dilations", 1)
	if err != nil {
		return err
	}
	pads, err := padsOf(n, in.H, in.W, k, s, d)
	if err != nil {
		return err
	}
	if n.attrInt("storage_order", 0) != 0 {
		return fmt.Errorf("storage_order 1 not supported")
	}
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return fmt.Errorf("the indices output is not supported")
	}
	p := nn.Pool2D{KH: k[0], KW: k[1], StrideH: s[0], StrideW: s[1], Pads: pads, DilH: d[0], DilW: d[1],
		CeilMode: n.attrInt("ceil_mode", 0) != 0, CountIncludePad: n.attrInt("count_include_pad", 0) != 0}
	var v nn.Value
	whole := k[0] == in.H && k[1] == in.W && pads[0]+pads[1]+pads[2]+pads[3] == 0
	if n.OpType == "MaxPool" {
		v = l.b.MaxPool(x.v, p)
	} else if whole {
		// One window over the whole plane (F.avg_pool2d(x, 8) on 8×8): a global pool, which
		// sums in the same order as a checkpoint's graph does.
		v = l.b.GlobalAvgPool(x.v)
	} else if k[0] == s[0] && k[1] == s[1] && k[0] == k[1] && pads[0]+pads[1]+pads[2]+pads[3] == 0 &&
		in.H%k[0] == 0 && in.W%k[0] == 0 {
		// Non-overlapping windows that tile the plane: the tuned pool (DenseNet transitions).
		v = l.b.AvgPool(x.v, k[0])
	} else {
		v = l.b.AvgPool2d(x.v, p)
	}
	l.set(n, l.layer(n.OpType, v, 4))
	return nil
}

// reduceMean maps a mean over the plane (a global average pool) or over the channels.
func (l *loader) reduceMean(n *Node, x *dyn, c []*tensor) error {
	axes, err := axesOf(n, c, 1)
	if err != nil {
		return err
	}
	lg := x.logical()
	if len(lg) != 4 || x.pending() || x.groups > 0 {
		return fmt.Errorf("ReduceMean of %s is not supported", showDims(lg))
	}
	keep := n.attrInt("keepdims", 1) != 0
	set := map[int]bool{}
	for _, a := range axes {
		a, err := axis(a, 4)
		if err != nil {
			return err
		}
		set[a] = true
	}
	plane, channel := [2]int{2, 3}, 1
	if x.nhwc {
		plane, channel = [2]int{1, 2}, 3
	}
	switch {
	case len(set) == 2 && set[plane[0]] && set[plane[1]]:
		v := l.b.GlobalAvgPool(x.v)
		d := l.layer("ReduceMean (plane)", v, 4)
		if !keep {
			if x.nhwc {
				return fmt.Errorf("ReduceMean over the plane of a channels-last value without keepdims is not supported")
			}
			d.dims = d.dims[:2]
		}
		d.nhwc = x.nhwc
		l.set(n, d)
	case len(set) == 1 && set[channel] && keep:
		d := l.layer("ReduceMean (channels)", l.b.MeanC(x.v), 4)
		d.nhwc = x.nhwc
		l.set(n, d)
	default:
		return fmt.Errorf("ReduceMean over axes %v of %s is not supported", axes, showDims(lg))
	}
	return nil
}

// reshape maps Flatten, Reshape, Squeeze and Unsqueeze, which keep each image's elements in
// order: onto nothing where the nn shape does not change, a Flatten, or the start of a channel
// shuffle.
func (l *loader) reshape(n *Node, x *dyn, c []*tensor) error {
	lg := x.logical()
	in := append([]int{1}, lg[1:]...)
	var out []int
	var err error
	switch n.OpType {
	case "Flatten":
		a := int(n.attrInt("axis", 1))
		if a != 1 {
			return fmt.Errorf("Flatten at axis %d: only axis 1 keeps the batch", a)
		}
		out = []int{1, prod(in[1:])}
	case "Squeeze", "Unsqueeze":
		var axes []int
		if axes, err = axesOf(n, c, 1); err != nil {
			return err
		}
		r := len(lg)
		if n.OpType == "Unsqueeze" {
			r += len(axes)
		}
		for _, a := range axes {
			if a == 0 || a == -r {
				return fmt.Errorf("%s on the batch axis", n.OpType)
			}
		}
		if n.OpType == "Squeeze" {
			if len(axes) == 0 {
				return fmt.Errorf("Squeeze without axes would depend on the batch size")
			}
			out, err = squeezeDims(in, axes)
		} else {
			out, err = unsqueezeDims(in, axes)
		}
		if err != nil {
			return err
		}
	case "Reshape":
		if c[1] == nil {
			return fmt.Errorf("the target shape must be computable when the model is loaded")
		}
		var target []int
		if target, err = intsOf(c[1]); err != nil {
			return err
		}
		if len(target) == 0 {
			return fmt.Errorf("reshape to a scalar")
		}
		switch {
		case target[0] == batchDim || target[0] == 0:
			target[0] = 1
		case target[0] == -1:
			target[0] = 1
			for _, t := range target[1:] {
				if t == -1 || t == 0 {
					return fmt.Errorf("reshape %s: batch and another dimension inferred", showDims(target))
				}
			}
		default:
			return fmt.Errorf("reshape %s fixes the batch size", showDims(target))
		}
		if out, err = reshapeDims(in, target, n.attrInt("allowzero", 0) != 0); err != nil {
			return err
		}
	}
	return l.reshapeTo(n, x, out)
}

// reshapeTo gives x the per-image dims out[1:], keeping the data in order.
func (l *loader) reshapeTo(n *Node, x *dyn, out []int) error {
	lg := x.logical()
	s := l.b.Shape(x.v)
	out = append([]int{batchDim}, out[1:]...)
	same := func(a, b []int) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if same(out, lg) {
		l.set(n, x)
		return nil
	}
	// A shuffled group view flattened back to channels is ShuffleNet's channel shuffle.
	if x.groups > 0 && x.shuffled && same(out, x.dims) {
		v := l.b.ChannelShuffle(x.v, x.groups)
		l.set(n, l.layer("ChannelShuffle", v, 4))
		return nil
	}
	if !x.plain() {
		return fmt.Errorf("reshape of %s to %s is not supported", showDims(lg), showDims(out))
	}
	switch {
	case len(out) == 2 && (len(lg) == 2 || s.H == 1 && s.W == 1):
		l.set(n, &dyn{v: x.v, dims: out})
	case len(out) == 4 && len(lg) == 2 && out[2] == 1 && out[3] == 1:
		l.set(n, &dyn{v: x.v, dims: out})
	case len(out) == 2:
		l.set(n, l.layer("Flatten", l.b.Flatten(x.v), 2))
	case len(out) == 5 && len(lg) == 4 && out[3] == lg[2] && out[4] == lg[3] && out[1]*out[2] == lg[1]:
		l.set(n, &dyn{v: x.v, dims: x.dims, groups: out[1]})
	default:
		return fmt.Errorf("reshape of %s to %s is not supported", showDims(lg), showDims(out))
	}
	return nil
}

func (l *loader) transpose(n *Node, x *dyn) error {
	lg := x.logical()
	perm, err := permOf(n, len(lg))
	if err != nil {
		return err
	}
	is := func(p ...int) bool {
		for i := range p {
			if perm[i] != p[i] {
				return false
			}
		}
		return len(p) == len(perm)
	}
	d := *x
	switch {
	case is(0, 1) || is(0, 1, 2, 3) || is(0, 1, 2, 3, 4):
	case x.plain() && len(lg) == 4 && is(0, 2, 3, 1):
		d.nhwc = true
	case x.nhwc && is(0, 3, 1, 2):
		d.nhwc = false
	case x.groups > 0 && is(0, 2, 1, 3, 4):
		d.shuffled = !d.shuffled
	default:
		return fmt.Errorf("transpose %v of %s is not supported", perm, showDims(lg))
	}
	l.set(n, &d)
	return nil
}

// gemm maps Y = alpha·A·B' + beta·C on [N, K] features onto a linear layer.
func (l *loader) gemm(n *Node, x *dyn, c []*tensor) error {
	if len(x.dims) != 2 || !x.plain() {
		return fmt.Errorf("Gemm on %s: want [N, features]", showDims(x.logical()))
	}
	if n.attrInt("transA", 0) != 0 {
		return fmt.Errorf("transA is not supported")
	}
	w := c[1]
	if w == nil || w.isInt || len(w.dims) != 2 {
		return fmt.Errorf("B must be a constant float matrix")
	}
	k := x.dims[1]
	transB := n.attrInt("transB", 0) != 0
	var out int
	weight := w.f
	switch {
	case transB && w.dims[1] == k:
		out = w.dims[0]
	case !transB && w.dims[0] == k:
		out = w.dims[1]
		weight = transposeConst(w, []int{1, 0}).f
	default:
		return fmt.Errorf("B %v does not fit %d features", w.dims, k)
	}
	alpha, beta := n.attrFloat("alpha", 1), n.attrFloat("beta", 1)
	if alpha != 1 {
		weight = scaled(weight, alpha)
	}
	var bias []float32
	if n.input(2) != "" {
		b := c[2]
		if b == nil || b.isInt {
			return fmt.Errorf("C must be a constant float tensor")
		}
		switch len(b.f) {
		case out:
			bias = b.f
		case 1:
			bias = make([]float32, out)
			for i := range bias {
				bias[i] = b.f[0]
			}
		default:
			return fmt.Errorf("C %v does not broadcast to %d outputs", b.dims, out)
		}
		if beta != 1 {
			bias = scaled(bias, beta)
		}
	}
	return l.linear(n, x, out, weight, bias)
}

func scaled(x []float32, a float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = v * a
	}
	return y
}

func (l *loader) linear(n *Node, x *dyn, out int, weight, bias []float32) error {
	v := l.b.Linear(n.Name, x.v, out, weight, bias)
	l.rep.FLOPs += 2 * int64(len(weight))
	l.set(n, l.layer("Linear", v, 2))
	l.linIn[n.Outputs[0]] = n.Inputs[0]
	return nil
}

// matmul maps A·B with a constant B: a linear layer on [N, K] features, or a 1×1 convolution on
// channels-last [N, H, W, C] values (ConvNeXt's pointwise layers).
func (l *loader) matmul(n *Node, x *dyn, c []*tensor) error {
	w := c[1]
	if w == nil || w.isInt || len(w.dims) != 2 {
		return fmt.Errorf("B must be a constant float matrix")
	}
	lg := x.logical()
	k := lg[len(lg)-1]
	if w.dims[0] != k {
		return fmt.Errorf("B %v does not fit %s", w.dims, showDims(lg))
	}
	out := w.dims[1]
	weight := transposeConst(w, []int{1, 0}).f
	switch {
	case len(x.dims) == 2 && x.plain():
		return l.linear(n, x, out, weight, nil)
	case x.nhwc:
		v := l.b.Conv2d(n.Name, x.v, nn.Conv{Out: out, KH: 1, KW: 1, Stride: 1, Weight: weight})
		if l.b.Err() != nil {
			return nil
		}
		l.rep.FLOPs += 2 * int64(l.b.Shape(v).Size()) * int64(k)
		d := l.layer("MatMul (pointwise)", v, 4)
		d.nhwc = true
		l.set(n, d)
		return nil
	}
	return fmt.Errorf("MatMul on %s is not supported", showDims(lg))
}

func (l *loader) split(n *Node, x *dyn, c []*tensor) error {
	if err := l.need4(x); err != nil {
		return err
	}
	if ax, err := axis(int(n.attrInt("axis", 0)), 4); err != nil || ax != 1 {
		return fmt.Errorf("Split along axis %d: only channels are supported", n.attrInt("axis", 0))
	}
	ch := x.dims[1]
	var sizes []int
	if a, ok := n.attrInts("split"); ok {
		var err error
		if sizes, err = ints(a); err != nil {
			return err
		}
	} else if n.input(1) != "" {
		var err error
		if sizes, err = intsOf(c[1]); err != nil {
			return err
		}
	} else {
		k := len(n.Outputs)
		if k == 0 || ch%k != 0 {
			return fmt.Errorf("%d channels do not split into %d equal parts", ch, k)
		}
		for range k {
			sizes = append(sizes, ch/k)
		}
	}
	if len(sizes) != len(n.Outputs) {
		return fmt.Errorf("%d sizes for %d outputs", len(sizes), len(n.Outputs))
	}
	vs := l.b.Split(x.v, sizes...)
	for i, v := range vs {
		l.dyns[n.Outputs[i]] = l.layer("Split", v, 4)
	}
	l.rep.Layers["Split"] -= len(vs) - 1
	return nil
}

func (l *loader) slice(n *Node, x *dyn, c []*tensor) error {
	if len(x.dims) != 4 || x.nhwc || x.groups > 0 {
		return fmt.Errorf("needs an [N,C,H,W] value, got %s", showDims(x.logical()))
	}
	spec, err := sliceArgs(n, c, x.dims)
	if err != nil {
		return err
	}
	if _, ok := spec[0]; ok {
		return fmt.Errorf("slicing the batch axis is not supported")
	}
	// x[:, :, ::2, ::2] (one Slice, or one per axis) followed by a channel Pad is the option-A
	// shortcut of CIFAR ResNets: the subsampling waits for the Pad.
	if _, okc := spec[1]; !okc && l.uses[n.Outputs[0]] == 1 {
		d := &dyn{v: x.v, dims: append([]int(nil), x.dims...), sub: x.sub}
		ok := len(spec) > 0
		for a, s := range spec {
			i := a - 2
			if s.start != 0 || s.step != 2 || s.count != (x.dims[a]+1)/2 || d.sub[i] {
				ok = false
				break
			}
			d.sub[i] = true
			d.dims[a] = s.count
		}
		if ok {
			l.set(n, d)
			return nil
		}
	}
	if x.pending() {
		return fmt.Errorf("slice %v of a subsampled value is not supported", spec)
	}
	v := x.v
	for a := 1; a <= 3; a++ {
		s, ok := spec[a]
		if !ok || s.start == 0 && s.step == 1 && s.count == x.dims[a] {
			continue
		}
		if s.step < 1 || s.count == 0 {
			return fmt.Errorf("slice of axis %d with step %d and %d elements is not supported", a, s.step, s.count)
		}
		v = l.b.Slice(v, a-1, s.start, s.start+(s.count-1)*s.step+1, s.step)
	}
	l.set(n, l.layer("Slice", v, 4))
	return nil
}

func (l *loader) pad(n *Node, x *dyn, c []*tensor) error {
	var p []int
	var err error
	if a, ok := n.attrInts("pads"); ok {
		p, err = ints(a)
	} else {
		p, err = intsOf(c[1])
	}
	if err != nil {
		return err
	}
	lg := x.logical()
	if len(lg) != 4 || len(p) != 8 || x.nhwc || x.groups > 0 {
		return fmt.Errorf("Pad of %s with pads %v is not supported", showDims(lg), p)
	}
	mode := n.attrString("mode", "constant")
	value := n.attrFloat("value", 0)
	if n.input(2) != "" {
		f, err := floats(c, 2, 1, "constant value")
		if err != nil {
			return err
		}
		value = f[0]
	}
	if n.input(3) != "" {
		return fmt.Errorf("Pad with axes is not supported")
	}
	// p is [x1_begin, x2_begin, …, x1_end, x2_end, …].
	if p[0] != 0 || p[4] != 0 {
		return fmt.Errorf("padding the batch axis is not supported")
	}
	if x.pending() {
		if !x.sub[0] || !x.sub[1] || p[1] != p[5] || p[2]+p[3]+p[6]+p[7] != 0 || mode != "constant" || value != 0 || p[1] < 0 {
			return fmt.Errorf("pads %v after a subsampling slice are not supported", p)
		}
		v := l.b.ShortcutA(x.v, x.dims[1]+2*p[1])
		l.set(n, l.layer("ShortcutA", v, 4))
		return nil
	}
	if p[1] != 0 || p[5] != 0 {
		return fmt.Errorf("padding channels is not supported")
	}
	if p[2] == 0 && p[3] == 0 && p[6] == 0 && p[7] == 0 {
		// PyTorch 1.13 writes avg_pool2d as a Pad of zeros and an AveragePool.
		l.set(n, x)
		return nil
	}
	v := l.b.Pad(x.v, [4]int{p[2], p[3], p[6], p[7]}, mode, value)
	l.set(n, l.layer("Pad", v, 4))
	return nil
}

// layerNorm maps LayerNormalization over the channels of a channels-last value.
func (l *loader) layerNorm(n *Node, x *dyn, c []*tensor) error {
	lg := x.logical()
	ax, err := axis(int(n.attrInt("axis", -1)), len(lg))
	if err != nil {
		return err
	}
	if ax != len(lg)-1 || !(x.nhwc || len(lg) == 2) {
		return fmt.Errorf("LayerNormalization over axis %d of %s is not supported", ax, showDims(lg))
	}
	if len(n.Outputs) > 1 && (n.Outputs[1] != "" || len(n.Outputs) > 2 && n.Outputs[2] != "") {
		return fmt.Errorf("the mean and inverse deviation outputs are not supported")
	}
	ch := lg[len(lg)-1]
	gamma, err := floats(c, 1, ch, "scale")
	if err != nil {
		return err
	}
	var beta []float32
	if n.input(2) != "" {
		if beta, err = floats(c, 2, ch, "bias"); err != nil {
			return err
		}
	}
	v := l.b.LayerNormC(n.Name, x.v, gamma, beta, decimal(n.attrFloat("epsilon", 1e-5)))
	d := l.layer("LayerNormalization", v, len(x.dims))
	d.nhwc = x.nhwc
	l.set(n, d)
	return nil
}
