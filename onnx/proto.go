package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is the part of an ONNX ModelProto that odin reads.
type Model struct {
	IRVersion       int64
	Opsets          map[string]int64 // domain ("" for the default ai.onnx) to version
	Producer        string
	ProducerVersion string
	Graph           Graph
}

// Graph is a GraphProto: nodes, initializers (weights) and the declared inputs and outputs.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is one operator application.
type Node struct {
	Name, OpType, Domain string
	Inputs, Outputs      []string
	Attrs                []Attribute
}

// Attribute is a node attribute; which fields are meaningful depends on Type.
type Attribute struct {
	Name     string
	Type     int32
	F        float32
	I        int64
	S        []byte
	T        *Tensor
	Floats   []float32
	Ints     []int64
	Strings  [][]byte
	HasGraph bool // a subgraph (If, Loop, Scan), which odin does not run
}

// Attribute types of AttributeProto.
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// ValueInfo is a declared input, output or intermediate value: its element type and shape.
type ValueInfo struct {
	Name     string
	ElemType int32
	HasShape bool
	Dims     []Dim
}

// Dim is one dimension of a declared shape: a size, or a symbolic name, or neither.
type Dim struct {
	Value int64
	Param string
}

// Tensor is a TensorProto as stored: its data stays in whichever field the file used until it
// is converted by Floats or Ints.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int32
	Raw      []byte
	Float    []float32
	Int32    []int32
	Int64    []int64
	Double   []float64
	Uint64   []uint64
	Strings  int // number of string_data entries (string tensors are not supported)
	External map[string]string
	Location int32 // 1 = external
}

// fieldReader walks the fields of one message.
type fieldReader struct {
	b   []byte
	msg string
}

// next returns the next field; ok is false at the end of the message.
func (r *fieldReader) next() (num protowire.Number, typ protowire.Type, val []byte, v uint64, ok bool, err error) {
	if len(r.b) == 0 {
		return 0, 0, nil, 0, false, nil
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		return 0, 0, nil, 0, false, fmt.Errorf("%s: bad field tag: %v", r.msg, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	switch typ {
	case protowire.VarintType:
		v, n = protowire.ConsumeVarint(r.b)
	case protowire.Fixed32Type:
		var x uint32
		x, n = protowire.ConsumeFixed32(r.b)
		v = uint64(x)
	case protowire.Fixed64Type:
		v, n = protowire.ConsumeFixed64(r.b)
	case protowire.BytesType:
		val, n = protowire.ConsumeBytes(r.b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, r.b)
	}
	if n < 0 {
		return 0, 0, nil, 0, false, fmt.Errorf("%s: field %d: %v", r.msg, num, protowire.ParseError(n))
	}
	r.b = r.b[n:]
	return num, typ, val, v, true, nil
}

func wrongType(msg string, num protowire.Number, got, want protowire.Type) error {
	return fmt.Errorf("%s: field %d has wire type %d, want %d", msg, num, got, want)
}

// want checks a field's wire type.
func want(msg string, num protowire.Number, got, w protowire.Type) error {
	if got != w {
		return wrongType(msg, num, got, w)
	}
	return nil
}

// DecodeModel parses a serialized ModelProto. Tensor data is not copied: the tensors refer to b.
func DecodeModel(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}}
	r := fieldReader{b: b, msg: "model"}
	sawGraph := false
	for {
		num, typ, val, v, ok, err := r.next()
		if err != nil || !ok {
			if err == nil && !sawGraph {
				err = fmt.Errorf("model: no graph")
			}
			return m, err
		}
		switch num {
		case 1:
			err = want("model", num, typ, protowire.VarintType)
			m.IRVersion = int64(v)
		case 2:
			err = want("model", num, typ, protowire.BytesType)
			m.Producer = string(val)
		case 3:
			err = want("model", num, typ, protowire.BytesType)
			m.ProducerVersion = string(val)
		case 7:
			if err = want("model", num, typ, protowire.BytesType); err == nil {
				sawGraph = true
				err = decodeGraph(val, &m.Graph)
			}
		case 8:
			if err = want("model", num, typ, protowire.BytesType); err == nil {
				var dom string
				var ver int64
				if dom, ver, err = decodeOpset(val); err == nil {
					m.Opsets[dom] = ver
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeOpset(b []byte) (string, int64, error) {
	r := fieldReader{b: b, msg: "opset_import"}
	var dom string
	var ver int64
	for {
		num, typ, val, v, ok, err := r.next()
		if err != nil || !ok {
			return dom, ver, err
		}
		switch num {
		case 1:
			err = want(r.msg, num, typ, protowire.BytesType)
			dom = string(val)
		case 2:
			err = want(r.msg, num, typ, protowire.VarintType)
			ver = int64(v)
		}
		if err != nil {
			return "", 0, err
		}
	}
}

func decodeGraph(b []byte, g *Graph) error {
	r := fieldReader{b: b, msg: "graph"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if num == 1 || num == 2 || num == 5 || (num >= 11 && num <= 13) {
			if err := want("graph", num, typ, protowire.BytesType); err != nil {
				return err
			}
		}
		switch num {
		case 1:
			var n Node
			if err = decodeNode(val, &n); err == nil {
				g.Nodes = append(g.Nodes, n)
			}
		case 2:
			g.Name = string(val)
		case 5:
			t := &Tensor{}
			if err = decodeTensor(val, t); err == nil {
				g.Initializers = append(g.Initializers, t)
			}
		case 11, 12, 13:
			var vi ValueInfo
			if err = decodeValueInfo(val, &vi); err == nil {
				switch num {
				case 11:
					g.Inputs = append(g.Inputs, vi)
				case 12:
					g.Outputs = append(g.Outputs, vi)
				default:
					g.ValueInfo = append(g.ValueInfo, vi)
				}
			}
		}
		if err != nil {
			return err
		}
	}
}

func decodeNode(b []byte, n *Node) error {
	r := fieldReader{b: b, msg: "node"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			if err != nil && n.OpType != "" {
				err = fmt.Errorf("%s node %q: %w", n.OpType, n.Name, err)
			}
			return err
		}
		if num <= 5 || num == 7 {
			if err := want("node", num, typ, protowire.BytesType); err != nil {
				return err
			}
		}
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, string(val))
		case 2:
			n.Outputs = append(n.Outputs, string(val))
		case 3:
			n.Name = string(val)
		case 4:
			n.OpType = string(val)
		case 7:
			n.Domain = string(val)
		case 5:
			var a Attribute
			if err = decodeAttribute(val, &a); err == nil {
				n.Attrs = append(n.Attrs, a)
			}
		}
		if err != nil {
			return err
		}
	}
}

func decodeAttribute(b []byte, a *Attribute) error {
	r := fieldReader{b: b, msg: "attribute"}
	for {
		num, typ, val, v, ok, err := r.next()
		if err != nil || !ok {
			if err != nil && a.Name != "" {
				err = fmt.Errorf("attribute %s: %w", a.Name, err)
			}
			return err
		}
		switch num {
		case 1:
			err = want(r.msg, num, typ, protowire.BytesType)
			a.Name = string(val)
		case 20:
			err = want(r.msg, num, typ, protowire.VarintType)
			a.Type = int32(v)
		case 2:
			err = want(r.msg, num, typ, protowire.Fixed32Type)
			a.F = math.Float32frombits(uint32(v))
		case 3:
			err = want(r.msg, num, typ, protowire.VarintType)
			a.I = int64(v)
		case 4:
			err = want(r.msg, num, typ, protowire.BytesType)
			a.S = val
		case 5:
			if err = want(r.msg, num, typ, protowire.BytesType); err == nil {
				a.T = &Tensor{}
				err = decodeTensor(val, a.T)
			}
		case 6, 11:
			err = want(r.msg, num, typ, protowire.BytesType)
			a.HasGraph = true
		case 7:
			a.Floats, err = appendFloats(a.Floats, r.msg, num, typ, val, v)
		case 8:
			a.Ints, err = appendVarints(a.Ints, r.msg, num, typ, val, v)
		case 9:
			err = want(r.msg, num, typ, protowire.BytesType)
			a.Strings = append(a.Strings, val)
		}
		if err != nil {
			return err
		}
	}
}

func decodeValueInfo(b []byte, vi *ValueInfo) error {
	r := fieldReader{b: b, msg: "value_info"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		switch num {
		case 1:
			err = want(r.msg, num, typ, protowire.BytesType)
			vi.Name = string(val)
		case 2:
			if err = want(r.msg, num, typ, protowire.BytesType); err == nil {
				err = decodeType(val, vi)
			}
		}
		if err != nil {
			return fmt.Errorf("value %q: %w", vi.Name, err)
		}
	}
}

// decodeType reads TypeProto.tensor_type; other kinds (sequences, maps) leave ElemType 0.
func decodeType(b []byte, vi *ValueInfo) error {
	r := fieldReader{b: b, msg: "type"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if num != 1 {
			continue
		}
		if err := want(r.msg, num, typ, protowire.BytesType); err != nil {
			return err
		}
		tr := fieldReader{b: val, msg: "tensor type"}
		for {
			num, typ, val, v, ok, err := tr.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch num {
			case 1:
				err = want(tr.msg, num, typ, protowire.VarintType)
				vi.ElemType = int32(v)
			case 2:
				if err = want(tr.msg, num, typ, protowire.BytesType); err == nil {
					vi.HasShape = true
					err = decodeShape(val, vi)
				}
			}
			if err != nil {
				return err
			}
		}
	}
}

func decodeShape(b []byte, vi *ValueInfo) error {
	r := fieldReader{b: b, msg: "shape"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if num != 1 {
			continue
		}
		if err := want(r.msg, num, typ, protowire.BytesType); err != nil {
			return err
		}
		var d Dim
		dr := fieldReader{b: val, msg: "dim"}
		for {
			num, typ, val, v, ok, err := dr.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch num {
			case 1:
				err = want(dr.msg, num, typ, protowire.VarintType)
				d.Value = int64(v)
			case 2:
				err = want(dr.msg, num, typ, protowire.BytesType)
				d.Param = string(val)
			}
			if err != nil {
				return err
			}
		}
		vi.Dims = append(vi.Dims, d)
	}
}

func decodeTensor(b []byte, t *Tensor) error {
	r := fieldReader{b: b, msg: "tensor"}
	for {
		num, typ, val, v, ok, err := r.next()
		if err != nil || !ok {
			if err != nil && t.Name != "" {
				err = fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			return err
		}
		switch num {
		case 1:
			t.Dims, err = appendVarints(t.Dims, r.msg, num, typ, val, v)
		case 2:
			err = want(r.msg, num, typ, protowire.VarintType)
			t.DataType = int32(v)
		case 4:
			t.Float, err = appendFloats(t.Float, r.msg, num, typ, val, v)
		case 5:
			var xs []int64
			if xs, err = appendVarints(nil, r.msg, num, typ, val, v); err == nil {
				for _, x := range xs {
					t.Int32 = append(t.Int32, int32(x))
				}
			}
		case 6:
			err = want(r.msg, num, typ, protowire.BytesType)
			t.Strings++
		case 7:
			t.Int64, err = appendVarints(t.Int64, r.msg, num, typ, val, v)
		case 8:
			err = want(r.msg, num, typ, protowire.BytesType)
			t.Name = string(val)
		case 9:
			err = want(r.msg, num, typ, protowire.BytesType)
			t.Raw = val
		case 10:
			t.Double, err = appendDoubles(t.Double, r.msg, num, typ, val, v)
		case 11:
			var xs []int64
			if xs, err = appendVarints(nil, r.msg, num, typ, val, v); err == nil {
				for _, x := range xs {
					t.Uint64 = append(t.Uint64, uint64(x))
				}
			}
		case 13:
			if err = want(r.msg, num, typ, protowire.BytesType); err == nil {
				var k, val2 string
				if k, val2, err = decodeEntry(val); err == nil {
					if t.External == nil {
						t.External = map[string]string{}
					}
					t.External[k] = val2
				}
			}
		case 14:
			err = want(r.msg, num, typ, protowire.VarintType)
			t.Location = int32(v)
		}
		if err != nil {
			return err
		}
	}
}

func decodeEntry(b []byte) (k, v string, err error) {
	r := fieldReader{b: b, msg: "string entry"}
	for {
		num, typ, val, _, ok, err := r.next()
		if err != nil || !ok {
			return k, v, err
		}
		if num == 1 || num == 2 {
			if err := want(r.msg, num, typ, protowire.BytesType); err != nil {
				return "", "", err
			}
			if num == 1 {
				k = string(val)
			} else {
				v = string(val)
			}
		}
	}
}

// appendVarints reads a repeated integer field, packed or not.
func appendVarints(dst []int64, msg string, num protowire.Number, typ protowire.Type, val []byte, v uint64) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		return append(dst, int64(v)), nil
	case protowire.BytesType:
		for len(val) > 0 {
			x, n := protowire.ConsumeVarint(val)
			if n < 0 {
				return nil, fmt.Errorf("%s: field %d: %v", msg, num, protowire.ParseError(n))
			}
			dst = append(dst, int64(x))
			val = val[n:]
		}
		return dst, nil
	}
	return nil, wrongType(msg, num, typ, protowire.VarintType)
}

func appendFloats(dst []float32, msg string, num protowire.Number, typ protowire.Type, val []byte, v uint64) ([]float32, error) {
	switch typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(v))), nil
	case protowire.BytesType:
		if len(val)%4 != 0 {
			return nil, fmt.Errorf("%s: field %d: packed floats of %d bytes", msg, num, len(val))
		}
		for i := 0; i < len(val); i += 4 {
			x, _ := protowire.ConsumeFixed32(val[i:])
			dst = append(dst, math.Float32frombits(x))
		}
		return dst, nil
	}
	return nil, wrongType(msg, num, typ, protowire.Fixed32Type)
}

func appendDoubles(dst []float64, msg string, num protowire.Number, typ protowire.Type, val []byte, v uint64) ([]float64, error) {
	switch typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(v)), nil
	case protowire.BytesType:
		if len(val)%8 != 0 {
			return nil, fmt.Errorf("%s: field %d: packed doubles of %d bytes", msg, num, len(val))
		}
		for i := 0; i < len(val); i += 8 {
			x, _ := protowire.ConsumeFixed64(val[i:])
			dst = append(dst, math.Float64frombits(x))
		}
		return dst, nil
	}
	return nil, wrongType(msg, num, typ, protowire.Fixed64Type)
}
