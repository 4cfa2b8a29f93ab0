package onnx

import (
	"fmt"
	"math"
)

// batchDim stands for the batch size in folded shape computations: Shape of a value reports it
// for axis 0, and Reshape reads it back as "the batch". Arithmetic on it gives a value no shape
// accepts, so a model that computes with the batch size is refused rather than mis-built.
const batchDim = -3 << 40

// foldable lists the operators evaluated when all their inputs are constants.
var foldable = map[string]bool{
	"Constant": true, "Shape": true, "Size": true, "Gather": true, "Unsqueeze": true, "Squeeze": true,
	"Concat": true, "ConstantOfShape": true, "Cast": true, "Reshape": true, "Flatten": true, "Slice": true,
	"Transpose": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Neg": true,
	"Floor": true, "Ceil": true, "Sqrt": true, "Equal": true, "Where": true, "Range": true, "Expand": true,
	"Identity": true, "Dropout": true, "Min": true, "Max": true, "Abs": true, "Reciprocal": true,
}

func (t *tensor) get(k int) float64 {
	if t.isInt {
		return float64(t.i[k])
	}
	return float64(t.f[k])
}

func newTensor(dims []int, isInt bool) *tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	t := &tensor{dims: append([]int(nil), dims...), isInt: isInt}
	if isInt {
		t.i = make([]int64, n)
	} else {
		t.f = make([]float32, n)
	}
	return t
}

func scalarInt(v int64) *tensor { return &tensor{i: []int64{v}, isInt: true} }

// intsOf reads a constant as integers (shapes, axes, indices).
func intsOf(t *tensor) ([]int, error) {
	if t == nil {
		return nil, fmt.Errorf("missing constant")
	}
	if !t.isInt {
		xs := make([]int64, len(t.f))
		for i, v := range t.f {
			xs[i] = int64(v)
		}
		return ints(xs)
	}
	return ints(t.i)
}

func axis(a, rank int) (int, error) {
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, rank)
	}
	return a, nil
}

func (l *loader) checkSize(dims []int) error {
	ds := make([]int64, len(dims))
	for i, d := range dims {
		ds[i] = int64(d)
	}
	_, err := numel(ds, l.limit)
	return err
}

// fold evaluates a node whose inputs are all constant (nil for absent optional inputs).
func (l *loader) fold(n *Node, in []*tensor) (*tensor, error) {
	arg := func(i int) (*tensor, error) {
		if i >= len(in) || in[i] == nil {
			return nil, fmt.Errorf("input %d missing", i)
		}
		return in[i], nil
	}
	switch n.OpType {
	case "Constant":
		return constantAttr(n)
	case "Identity", "Dropout":
		return arg(0)
	case "Shape":
		x, err := arg(0)
		if err != nil {
			return nil, err
		}
		return shapeOf(n, x.dims)
	case "Size":
		x, err := arg(0)
		if err != nil {
			return nil, err
		}
		return scalarInt(int64(x.size())), nil
	case "ConstantOfShape":
		return l.constantOfShape(n, in)
	case "Cast":
		x, err := arg(0)
		if err != nil {
			return nil, err
		}
		return cast(x, int32(n.attrInt("to", typeFloat))), nil
	case "Neg", "Floor", "Ceil", "Sqrt", "Abs", "Reciprocal":
		x, err := arg(0)
		if err != nil {
			return nil, err
		}
		return unaryConst(n.OpType, x), nil
	case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Min", "Max":
		return l.binaryConst(n.OpType, in)
	case "Where":
		return l.where(in)
	}
	return l.foldShape(n, in)
}

func constantAttr(n *Node) (*tensor, error) {
	if len(n.Attrs) != 1 {
		return nil, fmt.Errorf("constant with %d attributes", len(n.Attrs))
	}
	a := &n.Attrs[0]
	switch a.Name {
	case "value":
		if a.T == nil {
			return nil, fmt.Errorf("value is not a tensor")
		}
		return convert(a.T, nil, DefaultMaxTensorElements)
	case "value_float":
		return &tensor{f: []float32{a.F}}, nil
	case "value_floats":
		return &tensor{dims: []int{len(a.Floats)}, f: append([]float32(nil), a.Floats...)}, nil
	case "value_int":
		return scalarInt(a.I), nil
	case "value_ints":
		return &tensor{dims: []int{len(a.Ints)}, i: append([]int64(nil), a.Ints...), isInt: true}, nil
	}
	return nil, fmt.Errorf("constant attribute %s not supported", a.Name)
}

// shapeOf is the Shape operator on dims (opset 15 adds start and end).
func shapeOf(n *Node, dims []int) (*tensor, error) {
	r := len(dims)
	lo, hi := int(n.attrInt("start", 0)), int(n.attrInt("end", int64(r)))
	clamp := func(v int) int {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	lo, hi = clamp(lo), clamp(hi)
	if hi < lo {
		hi = lo
	}
	t := &tensor{dims: []int{hi - lo}, isInt: true, i: make([]int64, hi-lo)}
	for k := lo; k < hi; k++ {
		t.i[k-lo] = int64(dims[k])
	}
	return t, nil
}

func (l *loader) constantOfShape(n *Node, in []*tensor) (*tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 missing")
	}
	dims, err := intsOf(in[0])
	if err != nil {
		return nil, err
	}
	for _, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("shape %v depends on the batch size", dims)
		}
	}
	if err := l.checkSize(dims); err != nil {
		return nil, err
	}
	val := &tensor{f: []float32{0}}
	if a := n.attr("value"); a != nil && a.T != nil {
		if val, err = convert(a.T, nil, 1); err != nil || val.size() != 1 {
			return nil, fmt.Errorf("value must hold one element")
		}
	}
	t := newTensor(dims, val.isInt)
	for k := range t.size() {
		if t.isInt {
			t.i[k] = val.i[0]
		} else {
			t.f[k] = val.f[0]
		}
	}
	return t, nil
}

func cast(x *tensor, to int32) *tensor {
	t := newTensor(x.dims, !isFloatType(to))
	for k := range x.size() {
		v := x.get(k)
		switch {
		case to == typeBool:
			if v != 0 {
				t.i[k] = 1
			}
		case t.isInt:
			if x.isInt {
				t.i[k] = x.i[k]
			} else {
				t.i[k] = int64(math.Trunc(v))
			}
		default:
			t.f[k] = float32(v)
		}
	}
	return t
}

func unaryConst(op string, x *tensor) *tensor {
	t := newTensor(x.dims, x.isInt && op != "Sqrt" && op != "Reciprocal")
	for k := range x.size() {
		v := x.get(k)
		switch op {
		case "Neg":
			v = -v
		case "Floor":
			v = math.Floor(v)
		case "Ceil":
			v = math.Ceil(v)
		case "Sqrt":
			v = math.Sqrt(v)
		case "Abs":
			v = math.Abs(v)
		case "Reciprocal":
			v = 1 / v
		}
		if t.isInt {
			t.i[k] = int64(v)
		} else {
			t.f[k] = float32(v)
		}
	}
	return t
}

// broadcastDims is numpy's broadcasting of two shapes.
func broadcastDims(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		x, y := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == y || y == 1:
			out[i] = x
		case x == 1:
			out[i] = y
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bindex maps a flat index of the broadcast result to a flat index of an operand of shape d.
func bindex(k int, out, d []int) int {
	idx, stride := 0, 1
	for i := len(out) - 1; i >= 0; i-- {
		c := k % out[i]
		k /= out[i]
		if j := i - (len(out) - len(d)); j >= 0 {
			if d[j] != 1 {
				idx += c * stride
			}
			stride *= d[j]
		}
	}
	return idx
}

func (l *loader) binaryConst(op string, in []*tensor) (*tensor, error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("%s needs two inputs", op)
	}
	a, b := in[0], in[1]
	dims, err := broadcastDims(a.dims, b.dims)
	if err != nil {
		return nil, err
	}
	if err := l.checkSize(dims); err != nil {
		return nil, err
	}
	isInt := a.isInt && b.isInt && op != "Pow"
	if op == "Equal" {
		isInt = true
	}
	t := newTensor(dims, isInt)
	for k := range t.size() {
		x, y := a.get(bindex(k, dims, a.dims)), b.get(bindex(k, dims, b.dims))
		var v float64
		switch op {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div":
			v = x / y
			if isInt {
				if y == 0 {
					return nil, fmt.Errorf("integer division by zero")
				}
				v = math.Trunc(v)
			}
		case "Pow":
			v = math.Pow(x, y)
		case "Min":
			v = math.Min(x, y)
		case "Max":
			v = math.Max(x, y)
		case "Equal":
			if x == y {
				v = 1
			}
		}
		if isInt {
			if a.isInt && b.isInt && op != "Div" && op != "Equal" {
				// Exact integer arithmetic; float64 loses bits past 2^53.
				v = 0
				xi, yi := a.i[bindex(k, dims, a.dims)], b.i[bindex(k, dims, b.dims)]
				t.i[k] = intOp(op, xi, yi)
				continue
			}
			t.i[k] = int64(v)
		} else {
			t.f[k] = float32(v)
		}
	}
	return t, nil
}

func intOp(op string, x, y int64) int64 {
	switch op {
	case "Add":
		return x + y
	case "Sub":
		return x - y
	case "Mul":
		return x * y
	case "Min":
		return min(x, y)
	case "Max":
		return max(x, y)
	}
	return 0
}

func (l *loader) where(in []*tensor) (*tensor, error) {
	if len(in) != 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, fmt.Errorf("Where needs three inputs")
	}
	c, a, b := in[0], in[1], in[2]
	dims, err := broadcastDims(c.dims, a.dims)
	if err == nil {
		dims, err = broadcastDims(dims, b.dims)
	}
	if err != nil {
		return nil, err
	}
	if err := l.checkSize(dims); err != nil {
		return nil, err
	}
	t := newTensor(dims, a.isInt && b.isInt)
	for k := range t.size() {
		src, d := b, b.dims
		if c.get(bindex(k, dims, c.dims)) != 0 {
			src, d = a, a.dims
		}
		j := bindex(k, dims, d)
		if t.isInt {
			t.i[k] = src.i[j]
		} else {
			t.f[k] = float32(src.get(j))
		}
	}
	return t, nil
}
