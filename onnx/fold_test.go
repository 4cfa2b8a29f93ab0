package onnx

import (
	"fmt"
	"testing"
)

func ci(dims []int, v ...int64) *tensor   { return &tensor{dims: dims, i: v, isInt: true} }
func cf(dims []int, v ...float32) *tensor { return &tensor{dims: dims, f: v} }

func node(op string, attrs ...Attribute) *Node { return &Node{OpType: op, Attrs: attrs} }

func ia(name string, v ...int64) Attribute { return Attribute{Name: name, Ints: v, I: v[0]} }

// TestFold checks the constant evaluation of shape arithmetic against hand-computed results.
func TestFold(t *testing.T) {
	l := &loader{limit: 1 << 20}
	cases := []struct {
		n    *Node
		in   []*tensor
		want string
	}{
		{node("Gather", ia("axis", 1)), []*tensor{ci([]int{2, 3}, 1, 2, 3, 4, 5, 6), ci([]int{2}, -1, 0)}, "[2 2] [3 1 6 4]"},
		{node("Gather"), []*tensor{ci([]int{4}, 10, 20, 30, 40), ci(nil, 2)}, "[] [30]"},
		{node("Unsqueeze"), []*tensor{ci(nil, 7), ci([]int{1}, 0)}, "[1] [7]"},
		{node("Squeeze", ia("axes", 0)), []*tensor{ci([]int{1, 2}, 7, 8)}, "[2] [7 8]"},
		{node("Concat", ia("axis", 0)), []*tensor{ci([]int{1}, batchDim), ci([]int{1}, -1)}, fmt.Sprintf("[2] [%d -1]", batchDim)},
		{node("Slice"), []*tensor{ci([]int{5}, 0, 1, 2, 3, 4), ci([]int{1}, -1), ci([]int{1}, -1<<62), ci([]int{1}, 0), ci([]int{1}, -2)}, "[3] [4 2 0]"},
		{node("Slice", ia("starts", 1), ia("ends", 1<<62), ia("axes", 1)), []*tensor{ci([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, "[2 2] [2 3 5 6]"},
		{node("Transpose", ia("perm", 1, 0)), []*tensor{ci([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, "[3 2] [1 4 2 5 3 6]"},
		{node("Reshape"), []*tensor{ci([]int{2, 3}, 1, 2, 3, 4, 5, 6), ci([]int{2}, 0, -1)}, "[2 3] [1 2 3 4 5 6]"},
		{node("Range"), []*tensor{ci(nil, 1), ci(nil, 8), ci(nil, 3)}, "[3] [1 4 7]"},
		{node("Expand"), []*tensor{ci([]int{2, 1}, 1, 2), ci([]int{2}, 2, 2)}, "[2 2] [1 1 2 2]"},
		{node("Cast", Attribute{Name: "to", I: typeInt64}), []*tensor{cf([]int{2}, 2.7, -2.7)}, "[2] [2 -2]"},
		{node("Div"), []*tensor{ci(nil, 7), ci(nil, 2)}, "[] [3]"},
		{node("Mul"), []*tensor{cf([]int{2}, 1.5, 2), cf(nil, 2)}, "[2] [3 4]"},
		{node("Where"), []*tensor{ci([]int{2}, 1, 0), ci([]int{2}, 5, 6), ci(nil, -1)}, "[2] [5 -1]"},
		{node("ConstantOfShape"), []*tensor{ci([]int{2}, 2, 1)}, "[2 1] [0 0]"},
		{node("Shape", ia("start", 1)), []*tensor{cf([]int{2, 3, 4})}, "[2] [3 4]"},
	}
	for _, c := range cases {
		got, err := l.fold(c.n, c.in)
		if err != nil {
			t.Errorf("%s: %v", c.n.OpType, err)
			continue
		}
		vals := any(got.i)
		if !got.isInt {
			vals = got.f
		}
		if s := fmt.Sprint(got.dims, " ", vals); s != c.want {
			t.Errorf("%s: got %s, want %s", c.n.OpType, s, c.want)
		}
	}
	for _, c := range []struct {
		n    *Node
		in   []*tensor
		want string
	}{
		{node("ConstantOfShape"), []*tensor{ci([]int{2}, 1<<15, 1<<15)}, "exceed the limit"},
		{node("Range"), []*tensor{ci(nil, 0), ci(nil, 1<<40), ci(nil, 1)}, "exceeds the limit"},
		{node("Gather"), []*tensor{ci([]int{2}, 1, 2), ci(nil, 5)}, "out of range"},
		{node("Reshape"), []*tensor{ci([]int{6}, 1, 2, 3, 4, 5, 6), ci([]int{1}, 4)}, "cannot reshape"},
	} {
		_, err := l.fold(c.n, c.in)
		checkBad(t, c.n.OpType, err, c.want)
	}
}
