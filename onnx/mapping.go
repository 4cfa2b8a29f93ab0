package onnx

import (
	"fmt"
	"math"

	"github.com/odin-ood/odin/nn"
)

// dyn is a value computed from the input image, held in the nn graph. dims are the ONNX
// dimensions in the order the data is stored: [batch, C, H, W] or [batch, K]. A Transpose to
// channels-last is not carried out: nhwc marks the value as logically [batch, H, W, C] while
// the data stays channel-major, and the operators that follow (LayerNormalization, MatMul,
// ReduceMean, arithmetic) are mapped onto their channel-major equivalents.
type dyn struct {
	v    nn.Value
	dims []int
	nhwc bool
	// sub[i]: every second row (i = 0) or column (i = 1) of v is still to be taken, the start of
	// a CIFAR ResNet's option-A shortcut, which a channel Pad completes; dims are already those
	// of the subsampled value.
	sub [2]bool
	// groups > 0: v reshaped to [batch, groups, C/groups, H, W] (a channel shuffle in
	// progress); shuffled once the two group axes have been transposed.
	groups   int
	shuffled bool
}

// logical returns the dimensions in ONNX's order.
func (d *dyn) logical() []int {
	switch {
	case d.groups > 0:
		g, c := d.groups, d.dims[1]/d.groups
		if d.shuffled {
			g, c = c, g
		}
		return []int{d.dims[0], g, c, d.dims[2], d.dims[3]}
	case d.nhwc:
		return []int{d.dims[0], d.dims[2], d.dims[3], d.dims[1]}
	}
	return d.dims
}

func (d *dyn) plain() bool { return !d.nhwc && !d.pending() && d.groups == 0 }

func (d *dyn) pending() bool { return d.sub[0] || d.sub[1] }

func dimsOf(s nn.Shape, rank int) []int {
	if rank == 2 {
		return []int{batchDim, s.C}
	}
	return []int{batchDim, s.C, s.H, s.W}
}

func showDims(d []int) string {
	s := "["
	for i, v := range d {
		if i > 0 {
			s += ","
		}
		if v == batchDim {
			s += "N"
		} else {
			s += fmt.Sprint(v)
		}
	}
	return s + "]"
}

// supported lists every operator odin imports: evaluated on constants, or mapped onto nn.
var supported = func() map[string]bool {
	m := map[string]bool{}
	for op := range foldable {
		m[op] = true
	}
	for _, op := range []string{"Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid",
		"HardSigmoid", "HardSwish", "Tanh", "Erf", "Gelu", "Sqrt", "Pow", "Add", "Sub", "Mul", "Div", "Concat",
		"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "Flatten", "Reshape",
		"Squeeze", "Unsqueeze", "Transpose", "Gemm", "MatMul", "Split", "Slice", "Pad", "LayerNormalization",
		"Softmax", "LogSoftmax", "Identity", "Dropout"} {
		m[op] = true
	}
	return m
}()

// constant returns the constant named name, converting an initializer on first use.
func (l *loader) constant(name string) (*tensor, error) {
	if t, ok := l.consts[name]; ok {
		return t, nil
	}
	init, ok := l.inits[name]
	if !ok {
		return nil, nil
	}
	t, err := convert(init, l.ext, l.limit)
	if err != nil {
		return nil, fmt.Errorf("initializer %s: %w", name, err)
	}
	l.consts[name] = t
	if !t.isInt {
		l.rep.Params += int64(len(t.f))
	}
	return t, nil
}

// node evaluates or maps one node.
func (l *loader) node(n *Node) error {
	consts := make([]*tensor, len(n.Inputs))
	dynamic := false
	for i, in := range n.Inputs {
		if in == "" {
			continue
		}
		if _, ok := l.dyns[in]; ok {
			dynamic = true
			continue
		}
		t, err := l.constant(in)
		if err != nil {
			return err
		}
		consts[i] = t
	}
	if len(n.Outputs) == 0 {
		return fmt.Errorf("no outputs")
	}
	if !dynamic {
		if !foldable[n.OpType] {
			return fmt.Errorf("does not depend on the input and cannot be evaluated on constants")
		}
		t, err := l.fold(n, consts)
		if err != nil {
			return err
		}
		if err := l.checkSize(t.dims); err != nil {
			return err
		}
		if t.size() != prod(t.dims) {
			return fmt.Errorf("internal: %d values for dims %v", t.size(), t.dims)
		}
		// Folded constants are bounded together, not only one by one.
		if l.folded += int64(t.size()); l.folded > l.limit {
			return fmt.Errorf("constants computed when loading exceed the limit of %d elements", l.limit)
		}
		l.consts[n.Outputs[0]] = t
		return nil
	}
	if n.OpType == "Shape" || n.OpType == "Size" {
		x := l.in(n, 0)
		if x == nil || len(n.Inputs) != 1 {
			return fmt.Errorf("want one input")
		}
		dims := x.logical()
		t, err := shapeOf(n, dims)
		if n.OpType == "Size" {
			return fmt.Errorf("Size depends on the batch size")
		}
		l.consts[n.Outputs[0]] = t
		return err
	}
	// Absent optional inputs read as nil, whatever the node's arity.
	for len(consts) < 6 {
		consts = append(consts, nil)
	}
	return l.mapNode(n, consts)
}

// in returns the dynamic value of input i, or nil.
func (l *loader) in(n *Node, i int) *dyn {
	if i < len(n.Inputs) {
		return l.dyns[n.Inputs[i]]
	}
	return nil
}

func (l *loader) set(n *Node, d *dyn) {
	l.dyns[n.Outputs[0]] = d
}

func (l *loader) layer(kind string, v nn.Value, rank int) *dyn {
	l.rep.Layers[kind]++
	return &dyn{v: v, dims: dimsOf(l.b.Shape(v), rank)}
}

// mapNode maps a node with at least one dynamic input onto the nn graph.
func (l *loader) mapNode(n *Node, c []*tensor) error {
	x := l.in(n, 0)
	if x == nil && n.OpType != "Add" && n.OpType != "Mul" && n.OpType != "Sub" && n.OpType != "Div" {
		return fmt.Errorf("input 0 must depend on the image")
	}
	switch n.OpType {
	case "Identity", "Dropout":
		l.set(n, x)
		return nil
	case "Softmax", "LogSoftmax":
		return l.softmax(n, x)
	case "Conv":
		return l.conv(n, x, c)
	case "BatchNormalization":
		return l.batchNorm(n, x, c)
	case "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Gelu", "Sqrt", "Pow":
		return l.unary(n, x, c)
	case "Add", "Sub", "Mul", "Div":
		return l.binary(n, c)
	case "Concat":
		return l.concat(n)
	case "MaxPool", "AveragePool":
		return l.pool(n, x)
	case "GlobalAveragePool":
		if err := l.need4(x); err != nil {
			return err
		}
		l.set(n, l.layer("GlobalAveragePool", l.b.GlobalAvgPool(x.v), 4))
		return nil
	case "GlobalMaxPool":
		if err := l.need4(x); err != nil {
			return err
		}
		s := l.b.Shape(x.v)
		l.set(n, l.layer("GlobalMaxPool", l.b.MaxPool(x.v, nn.Pool2D{KH: s.H, KW: s.W}), 4))
		return nil
	case "ReduceMean":
		return l.reduceMean(n, x, c)
	case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
		return l.reshape(n, x, c)
	case "Transpose":
		return l.transpose(n, x)
	case "Gemm":
		return l.gemm(n, x, c)
	case "MatMul":
		return l.matmul(n, x, c)
	case "Split":
		return l.split(n, x, c)
	case "Slice":
		return l.slice(n, x, c)
	case "Pad":
		return l.pad(n, x, c)
	case "LayerNormalization":
		return l.layerNorm(n, x, c)
	}
	return fmt.Errorf("%s on values computed from the image is not supported", n.OpType)
}

func (l *loader) need4(x *dyn) error {
	if !x.plain() || len(x.dims) != 4 {
		return fmt.Errorf("needs an [N,C,H,W] value, got %s", showDims(x.logical()))
	}
	return nil
}

// floats reads a float constant input with the given number of elements (−1: any).
func floats(c []*tensor, i, want int, what string) ([]float32, error) {
	if i >= len(c) || c[i] == nil {
		return nil, fmt.Errorf("%s must be a constant", what)
	}
	t := c[i]
	if t.isInt {
		return nil, fmt.Errorf("%s is not a float tensor", what)
	}
	if want >= 0 && len(t.f) != want {
		return nil, fmt.Errorf("%s has %d elements, want %d", what, len(t.f), want)
	}
	return t.f, nil
}

func (l *loader) softmax(n *Node, x *dyn) error {
	if n.Outputs[0] != l.outName || len(x.dims) != 2 || !x.plain() {
		return fmt.Errorf("a %s is only supported as the last operator, on [N, classes] logits", n.OpType)
	}
	ax := int(n.attrInt("axis", -1))
	if l.rep.Opset < 13 {
		ax = int(n.attrInt("axis", 1))
	}
	if ax != 1 && ax != -1 {
		return fmt.Errorf("axis %d: want the class axis", ax)
	}
	name := n.Name
	if name == "" {
		name = n.Outputs[0]
	}
	l.rep.Notes = append(l.rep.Notes, fmt.Sprintf("the final %s (node %s) was removed: the detectors read logits", n.OpType, name))
	if in, ok := l.linIn[n.Inputs[0]]; ok {
		l.linIn[n.Outputs[0]] = in
	}
	l.set(n, x)
	return nil
}

func (l *loader) batchNorm(n *Node, x *dyn, c []*tensor) error {
	if err := l.need4(x); err != nil {
		return err
	}
	if n.attrInt("training_mode", 0) != 0 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return fmt.Errorf("batch normalisation in training mode is not supported: export the model in eval mode")
	}
	ch := x.dims[1]
	var p [4][]float32
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		var err error
		if p[i], err = floats(c, i+1, ch, what); err != nil {
			return err
		}
	}
	v := l.b.BatchNorm(n.Name, x.v, nn.BatchNorm{Gamma: p[0], Beta: p[1], Mean: p[2], Var: p[3],
		Eps: decimal(n.attrFloat("epsilon", 1e-5))})
	l.set(n, l.layer("BatchNormalization", v, 4))
	return nil
}

func (l *loader) unary(n *Node, x *dyn, c []*tensor) error {
	if x.pending() || x.groups > 0 {
		return fmt.Errorf("input %s is not supported here", showDims(x.logical()))
	}
	b := l.b
	var v nn.Value
	switch n.OpType {
	case "Relu":
		v = b.ReLU(x.v)
	case "LeakyRelu":
		v = b.LeakyReLU(x.v, n.attrFloat("alpha", 0.01))
	case "Clip":
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if a := n.attr("min"); a != nil {
			lo = a.F
		}
		if a := n.attr("max"); a != nil {
			hi = a.F
		}
		for i, p := range []*float32{&lo, &hi} {
			if n.input(i+1) == "" {
				continue
			}
			f, err := floats(c, i+1, 1, "clip bound")
			if err != nil {
				return err
			}
			*p = f[0]
		}
		v = b.Clip(x.v, lo, hi)
	case "Sigmoid":
		v = b.Sigmoid(x.v)
	case "HardSigmoid":
		v = b.HardSigmoid(x.v, n.attrFloat("alpha", 0.2), n.attrFloat("beta", 0.5))
	case "HardSwish":
		v = b.HardSwish(x.v)
	case "Tanh":
		v = b.Tanh(x.v)
	case "Erf":
		v = b.Erf(x.v)
	case "Gelu":
		if n.attrString("approximate", "none") != "none" {
			return fmt.Errorf("approximate GELU is not supported")
		}
		v = b.GELU(x.v)
	case "Sqrt":
		v = b.Sqrt(x.v)
	case "Pow":
		f, err := floats(c, 1, 1, "exponent")
		if err != nil {
			return err
		}
		v = b.Pow(x.v, f[0])
	}
	l.rep.Layers[n.OpType]++
	l.set(n, &dyn{v: v, dims: x.dims, nhwc: x.nhwc})
	return nil
}

// constShape lays a constant operand out as the per-image nn shape of x's data, broadcasting by
// ONNX's rules (aligned on the right; the batch axis must be 1).
func constShape(x *dyn, t *tensor) (nn.Shape, []float32, error) {
	if t.isInt {
		return nn.Shape{}, nil, fmt.Errorf("integer constant in arithmetic")
	}
	lg := x.logical()
	r := len(lg)
	if len(t.dims) > r {
		return nn.Shape{}, nil, fmt.Errorf("constant of rank %d with a value of rank %d", len(t.dims), r)
	}
	d := make([]int, r)
	for i := range d {
		d[i] = 1
		if j := i - (r - len(t.dims)); j >= 0 {
			d[i] = t.dims[j]
		}
	}
	if d[0] != 1 {
		return nn.Shape{}, nil, fmt.Errorf("constant %v varies along the batch", t.dims)
	}
	switch {
	case r == 2:
		return nn.Shape{C: d[1], H: 1, W: 1}, t.f, nil
	case r == 4 && !x.nhwc:
		return nn.Shape{C: d[1], H: d[2], W: d[3]}, t.f, nil
	case r == 4:
		// Logical [1, H, W, C] to channel-major [C, H, W].
		tt := transposeConst(&tensor{dims: d[1:], f: t.f}, []int{2, 0, 1})
		return nn.Shape{C: tt.dims[0], H: tt.dims[1], W: tt.dims[2]}, tt.f, nil
	}
	return nn.Shape{}, nil, fmt.Errorf("arithmetic on %s values", showDims(lg))
}

func (l *loader) binary(n *Node, c []*tensor) error {
	x, y := l.in(n, 0), l.in(n, 1)
	b := l.b
	ops := map[string]func(p, q nn.Value) nn.Value{"Add": b.Add, "Sub": b.Sub, "Mul": b.Mul, "Div": b.Div}
	f := ops[n.OpType]
	if x != nil && y != nil {
		ok := x.nhwc == y.nhwc && len(x.dims) == len(y.dims)
		if !ok || x.pending() || y.pending() || x.groups > 0 || y.groups > 0 {
			return fmt.Errorf("operands %s and %s are not supported", showDims(x.logical()), showDims(y.logical()))
		}
		v := f(x.v, y.v)
		l.rep.Layers[n.OpType]++
		l.set(n, &dyn{v: v, dims: dimsOf(b.Shape(v), len(x.dims)), nhwc: x.nhwc})
		return nil
	}
	d, ci, constFirst := x, 1, false
	if x == nil {
		d, ci, constFirst = y, 0, true
	}
	if d.pending() || d.groups > 0 {
		return fmt.Errorf("input %s is not supported here", showDims(d.logical()))
	}
	if c[ci] == nil {
		return fmt.Errorf("operand %d is neither a constant nor computed from the image", ci)
	}
	s, data, err := constShape(d, c[ci])
	if err != nil {
		return err
	}
	ds := b.Shape(d.v)
	if v, ok := l.affine(n.OpType, d, s, data, constFirst); ok {
		l.set(n, &dyn{v: v, dims: d.dims, nhwc: d.nhwc})
		if in, ok := l.linIn[n.Inputs[0]]; ok && n.OpType == "Add" {
			// MatMul + Add is a linear layer with a bias.
			l.linIn[n.Outputs[0]] = in
		}
		return nil
	}
	k := b.Const(s, data)
	var v nn.Value
	if constFirst {
		v = f(k, d.v)
	} else {
		v = f(d.v, k)
	}
	l.rep.Layers[n.OpType]++
	out := b.Shape(v)
	if out != ds {
		return fmt.Errorf("a constant operand %v broadcasts the value %v to %v", s, ds, out)
	}
	l.set(n, &dyn{v: v, dims: d.dims, nhwc: d.nhwc})
	return nil
}

// affine maps x·k and x+k (and k+x, k·x, x−k) by a scalar or per-channel constant onto an
// inference batch norm with unit variance, which computes x·k + 0 and x·1 + k exactly and which
// the execution plan fuses into neighbouring convolutions.
func (l *loader) affine(op string, d *dyn, s nn.Shape, data []float32, constFirst bool) (nn.Value, bool) {
	ds := l.b.Shape(d.v)
	if s.H != 1 || s.W != 1 || (s.C != 1 && s.C != ds.C) {
		return nn.Value{}, false
	}
	if op == "Div" || (op == "Sub" && constFirst) {
		return nn.Value{}, false
	}
	scale, shift := make([]float32, ds.C), make([]float32, ds.C)
	for ch := range ds.C {
		k := data[0]
		if s.C > 1 {
			k = data[ch]
		}
		switch op {
		case "Mul":
			scale[ch] = k
		case "Add":
			scale[ch], shift[ch] = 1, k
		case "Sub":
			scale[ch], shift[ch] = 1, -k
		}
	}
	zero, one := make([]float32, ds.C), make([]float32, ds.C)
	for i := range one {
		one[i] = 1
	}
	l.rep.Layers[op+" (constant)"]++
	return l.b.BatchNorm(op, d.v, nn.BatchNorm{Gamma: scale, Beta: shift, Mean: zero, Var: one}), true
}

func (l *loader) concat(n *Node) error {
	var vs []nn.Value
	var first *dyn
	for i := range n.Inputs {
		d := l.in(n, i)
		if d == nil {
			return fmt.Errorf("concatenating a constant with values computed from the image")
		}
		if !d.plain() {
			return fmt.Errorf("input %s is not supported here", showDims(d.logical()))
		}
		if first == nil {
			first = d
		}
		if len(d.dims) != len(first.dims) {
			return fmt.Errorf("concatenating values of ranks %d and %d", len(first.dims), len(d.dims))
		}
		vs = append(vs, d.v)
	}
	if ax, err := axis(int(n.attrInt("axis", 1)), len(first.dims)); err != nil || ax != 1 {
		return fmt.Errorf("concatenation along axis %d: only channels are supported", n.attrInt("axis", 1))
	}
	l.set(n, l.layer("Concat", l.b.Concat(vs...), len(first.dims)))
	return nil
}
