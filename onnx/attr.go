package onnx

import (
	"fmt"
	"strconv"
)

func (n *Node) attr(name string) *Attribute {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

func (n *Node) attrInt(name string, def int64) int64 {
	if a := n.attr(name); a != nil {
		return a.I
	}
	return def
}

func (n *Node) attrFloat(name string, def float32) float32 {
	if a := n.attr(name); a != nil {
		return a.F
	}
	return def
}

func (n *Node) attrInts(name string) ([]int64, bool) {
	if a := n.attr(name); a != nil {
		return a.Ints, true
	}
	return nil, false
}

func (n *Node) attrString(name, def string) string {
	if a := n.attr(name); a != nil {
		return string(a.S)
	}
	return def
}

// input returns the name of input i, or "" when it is absent.
func (n *Node) input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// ints converts int64s to ints, refusing values that cannot be sizes or indices here.
func ints(xs []int64) ([]int, error) {
	out := make([]int, len(xs))
	for i, x := range xs {
		if x == batchDim {
			out[i] = batchDim
			continue
		}
		if x > 1<<40 || x < -1<<40 {
			if x >= 1<<62 {
				// INT64_MAX and the like mean "to the end" in Slice.
				out[i] = 1 << 40
				continue
			}
			if x <= -1<<62 {
				out[i] = -1 << 40
				continue
			}
			return nil, fmt.Errorf("value %d out of range", x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// decimal widens a float32 attribute to the float64 whose shortest decimal form it has: an
// epsilon written as 1e-5 by PyTorch (a double) is stored as the nearest float32, and widening
// that directly would give 9.99999974738e-06; the batch norm computes 1/√(var+ε) in float64, so
// the difference can change the last bit of a folded scale.
func decimal(f float32) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return v
}
