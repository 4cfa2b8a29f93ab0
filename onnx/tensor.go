package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Element types of TensorProto.DataType.
const (
	typeFloat    = 1
	typeUint8    = 2
	typeInt8     = 3
	typeUint16   = 4
	typeInt16    = 5
	typeInt32    = 6
	typeInt64    = 7
	typeString   = 8
	typeBool     = 9
	typeFloat16  = 10
	typeDouble   = 11
	typeUint32   = 12
	typeUint64   = 13
	typeBfloat16 = 16
)

// elemSize is the size in bytes of one element in raw_data, or 0 for a type odin does not read.
func elemSize(dt int32) int {
	switch dt {
	case typeUint8, typeInt8, typeBool:
		return 1
	case typeUint16, typeInt16, typeFloat16, typeBfloat16:
		return 2
	case typeFloat, typeInt32, typeUint32:
		return 4
	case typeInt64, typeDouble, typeUint64:
		return 8
	}
	return 0
}

func isFloatType(dt int32) bool {
	return dt == typeFloat || dt == typeDouble || dt == typeFloat16 || dt == typeBfloat16
}

// tensor is a constant: float data (f) for the floating types, integer data (i) otherwise.
type tensor struct {
	dims  []int
	f     []float32
	i     []int64
	isInt bool
}

func (t *tensor) size() int { return len(t.f) + len(t.i) }

// numel multiplies dims, refusing negative sizes and products beyond limit.
func numel(dims []int64, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in %v", d, dims)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("dimensions %v exceed the limit of %d elements", dims, limit)
		}
		n *= d
	}
	return n, nil
}

// externalReader resolves external data locations against the model's folder.
type externalReader struct {
	root *os.Root // nil when the model came from memory
}

// read returns the bytes an external tensor names. os.Root refuses locations that leave the
// folder, whether by "..", an absolute path or a symbolic link.
func (x *externalReader) read(t *Tensor, want int64) ([]byte, error) {
	loc := t.External["location"]
	if loc == "" {
		return nil, fmt.Errorf("external data without a location")
	}
	if !filepath.IsLocal(loc) {
		return nil, fmt.Errorf("external data location %q leaves the model's folder", loc)
	}
	if x == nil || x.root == nil {
		return nil, fmt.Errorf("external data %q: the model was not read from a file", loc)
	}
	off, err := parseSize(t.External["offset"], 0)
	if err != nil {
		return nil, fmt.Errorf("external data %q: offset: %w", loc, err)
	}
	length, err := parseSize(t.External["length"], want)
	if err != nil {
		return nil, fmt.Errorf("external data %q: length: %w", loc, err)
	}
	if length != want {
		return nil, fmt.Errorf("external data %q: length %d, want %d bytes", loc, length, want)
	}
	f, err := x.root.Open(loc)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	if !st.Mode().IsRegular() || off > st.Size() || length > st.Size()-off {
		return nil, fmt.Errorf("external data %q: bytes %d..%d outside the file's %d", loc, off, off+length, st.Size())
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	return b, nil
}

func parseSize(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid %q", s)
	}
	return v, nil
}

// convert reads a TensorProto's data into a constant, checking its size against its dims.
func convert(t *Tensor, ext *externalReader, limit int64) (*tensor, error) {
	n, err := numel(t.Dims, limit)
	if err != nil {
		return nil, err
	}
	es := elemSize(t.DataType)
	if es == 0 || t.Strings > 0 {
		return nil, fmt.Errorf("data type %d not supported", t.DataType)
	}
	dims := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = int(d)
	}
	out := &tensor{dims: dims, isInt: !isFloatType(t.DataType)}
	raw := t.Raw
	if t.Location == 1 || t.External != nil {
		if raw, err = ext.read(t, n*int64(es)); err != nil {
			return nil, err
		}
	}
	if raw != nil || n == 0 && t.typedLen() == 0 {
		if int64(len(raw)) != n*int64(es) {
			return nil, fmt.Errorf("dims %v need %d bytes of data, found %d", t.Dims, n*int64(es), len(raw))
		}
		fromRaw(out, raw, t.DataType, int(n))
		return out, nil
	}
	if int64(t.typedLen()) != n {
		return nil, fmt.Errorf("dims %v need %d values, found %d", t.Dims, n, t.typedLen())
	}
	fromTyped(out, t)
	return out, nil
}

// typedLen is the number of values in the typed field that the data type uses.
func (t *Tensor) typedLen() int {
	switch t.DataType {
	case typeFloat:
		return len(t.Float)
	case typeDouble:
		return len(t.Double)
	case typeInt64:
		return len(t.Int64)
	case typeUint32, typeUint64:
		return len(t.Uint64)
	}
	return len(t.Int32)
}

func fromRaw(out *tensor, raw []byte, dt int32, n int) {
	le := binary.LittleEndian
	if out.isInt {
		out.i = make([]int64, n)
	} else {
		out.f = make([]float32, n)
	}
	for k := range n {
		switch dt {
		case typeFloat:
			out.f[k] = math.Float32frombits(le.Uint32(raw[4*k:]))
		case typeDouble:
			out.f[k] = float32(math.Float64frombits(le.Uint64(raw[8*k:])))
		case typeFloat16:
			out.f[k] = half(le.Uint16(raw[2*k:]))
		case typeBfloat16:
			out.f[k] = math.Float32frombits(uint32(le.Uint16(raw[2*k:])) << 16)
		case typeInt64, typeUint64:
			out.i[k] = int64(le.Uint64(raw[8*k:]))
		case typeInt32:
			out.i[k] = int64(int32(le.Uint32(raw[4*k:])))
		case typeUint32:
			out.i[k] = int64(le.Uint32(raw[4*k:]))
		case typeInt16:
			out.i[k] = int64(int16(le.Uint16(raw[2*k:])))
		case typeUint16:
			out.i[k] = int64(le.Uint16(raw[2*k:]))
		case typeInt8:
			out.i[k] = int64(int8(raw[k]))
		case typeUint8:
			out.i[k] = int64(raw[k])
		case typeBool:
			if raw[k] != 0 {
				out.i[k] = 1
			}
		}
	}
}

func fromTyped(out *tensor, t *Tensor) {
	switch t.DataType {
	case typeFloat:
		out.f = append([]float32(nil), t.Float...)
	case typeDouble:
		out.f = make([]float32, len(t.Double))
		for k, v := range t.Double {
			out.f[k] = float32(v)
		}
	case typeFloat16, typeBfloat16:
		// int32_data holds the 16 bits of each value.
		out.f = make([]float32, len(t.Int32))
		for k, v := range t.Int32 {
			if t.DataType == typeFloat16 {
				out.f[k] = half(uint16(v))
			} else {
				out.f[k] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
	case typeInt64:
		out.i = append([]int64(nil), t.Int64...)
	case typeUint32, typeUint64:
		out.i = make([]int64, len(t.Uint64))
		for k, v := range t.Uint64 {
			out.i[k] = int64(v)
		}
	default:
		out.i = make([]int64, len(t.Int32))
		for k, v := range t.Int32 {
			out.i[k] = int64(v)
			if t.DataType == typeBool && v != 0 {
				out.i[k] = 1
			}
		}
	}
}

// half converts an IEEE 754 binary16 value.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0:
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
