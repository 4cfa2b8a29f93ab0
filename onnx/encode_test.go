package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A minimal ONNX writer for tests: hand-made models, good and bad.

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func pbString(b []byte, num protowire.Number, s string) []byte { return pbBytes(b, num, []byte(s)) }

func pbVarint(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

type attrSpec struct {
	name string
	i    *int64
	ints []int64
	f    *float32
	s    string
	t    []byte
}

func encAttr(a attrSpec) []byte {
	b := pbString(nil, 1, a.name)
	switch {
	case a.i != nil:
		b = pbVarint(b, 20, attrInt)
		b = pbVarint(b, 3, *a.i)
	case a.f != nil:
		b = pbVarint(b, 20, attrFloat)
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(*a.f))
	case a.s != "":
		b = pbVarint(b, 20, attrString)
		b = pbString(b, 4, a.s)
	case a.t != nil:
		b = pbVarint(b, 20, attrTensor)
		b = pbBytes(b, 5, a.t)
	default:
		b = pbVarint(b, 20, attrInts)
		for _, v := range a.ints {
			b = pbVarint(b, 8, v)
		}
	}
	return b
}

func intp(v int64) *int64 { return &v }

func encNode(op, name string, ins, outs []string, attrs ...attrSpec) []byte {
	var b []byte
	for _, s := range ins {
		b = pbString(b, 1, s)
	}
	for _, s := range outs {
		b = pbString(b, 2, s)
	}
	b = pbString(b, 3, name)
	b = pbString(b, 4, op)
	for _, a := range attrs {
		b = pbBytes(b, 5, encAttr(a))
	}
	return b
}

// encTensor writes a tensor; raw nil leaves the data out, ext adds external data entries.
func encTensor(name string, dt int32, dims []int64, raw []byte, ext map[string]string) []byte {
	var b []byte
	for _, d := range dims {
		b = pbVarint(b, 1, d)
	}
	b = pbVarint(b, 2, int64(dt))
	b = pbString(b, 8, name)
	if raw != nil {
		b = pbBytes(b, 9, raw)
	}
	if ext != nil {
		for _, k := range []string{"location", "offset", "length"} {
			if v, ok := ext[k]; ok {
				e := pbString(pbString(nil, 1, k), 2, v)
				b = pbBytes(b, 13, e)
			}
		}
		b = pbVarint(b, 14, 1)
	}
	return b
}

func floatRaw(xs ...float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// encValueInfo writes a float tensor value: dims are int (a size) or string (a symbol).
func encValueInfo(name string, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch v := d.(type) {
		case int:
			dim = pbVarint(nil, 1, int64(v))
		case string:
			dim = pbString(nil, 2, v)
		}
		shape = pbBytes(shape, 1, dim)
	}
	tt := pbVarint(nil, 1, typeFloat)
	tt = pbBytes(tt, 2, shape)
	typ := pbBytes(nil, 1, tt)
	return pbBytes(pbString(nil, 1, name), 2, typ)
}

type graphSpec struct {
	nodes, inits, inputs, outputs [][]byte
}

func encModel(opset int64, g graphSpec) []byte {
	var gb []byte
	for _, n := range g.nodes {
		gb = pbBytes(gb, 1, n)
	}
	gb = pbString(gb, 2, "test")
	for _, t := range g.inits {
		gb = pbBytes(gb, 5, t)
	}
	for _, v := range g.inputs {
		gb = pbBytes(gb, 11, v)
	}
	for _, v := range g.outputs {
		gb = pbBytes(gb, 12, v)
	}
	b := pbVarint(nil, 1, 8)
	b = pbString(b, 2, "test")
	b = pbBytes(b, 7, gb)
	return pbBytes(b, 8, pbVarint(pbString(nil, 1, ""), 2, opset))
}

// smallNet is a valid model: Conv (2 channels, 1×1) → GlobalAveragePool → Flatten → Gemm to 3
// classes, on [N, 1, 4, 4] images. convW replaces the convolution's weight tensor.
func smallNet(convW []byte, extraNodes ...[]byte) graphSpec {
	if convW == nil {
		convW = encTensor("w", typeFloat, []int64{2, 1, 1, 1}, floatRaw(1, -1), nil)
	}
	g := graphSpec{
		nodes: [][]byte{
			encNode("Conv", "conv", []string{"x", "w"}, []string{"c"}),
			encNode("GlobalAveragePool", "gap", []string{"c"}, []string{"p"}),
			encNode("Flatten", "flat", []string{"p"}, []string{"f"}),
			encNode("Gemm", "fc", []string{"f", "fw", "fb"}, []string{"y"}, attrSpec{name: "transB", i: intp(1)}),
		},
		inits: [][]byte{convW,
			encTensor("fw", typeFloat, []int64{3, 2}, floatRaw(1, 0, 0, 1, 1, 1), nil),
			encTensor("fb", typeFloat, []int64{3}, floatRaw(0.5, 0, -0.5), nil)},
		inputs:  [][]byte{encValueInfo("x", "N", 1, 4, 4)},
		outputs: [][]byte{encValueInfo("y", "N", 3)},
	}
	g.nodes = append(g.nodes, extraNodes...)
	return g
}
