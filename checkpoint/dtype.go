package checkpoint

import (
	"encoding/binary"
	"math"
)

// dtype is an element type a checkpoint may store, with its size in bytes.
type dtype struct {
	name string
	size int
}

var (
	f64  = dtype{"float64", 8}
	f32  = dtype{"float32", 4}
	f16  = dtype{"float16", 2}
	bf16 = dtype{"bfloat16", 2}
	i64  = dtype{"int64", 8}
	i32  = dtype{"int32", 4}
	i16  = dtype{"int16", 2}
	i8   = dtype{"int8", 1}
	u64  = dtype{"uint64", 8}
	u32  = dtype{"uint32", 4}
	u16  = dtype{"uint16", 2}
	u8   = dtype{"uint8", 1}
	bl   = dtype{"bool", 1}
)

// storageTypes maps torch storage class names to their element types.
var storageTypes = map[string]dtype{
	"DoubleStorage":   f64,
	"FloatStorage":    f32,
	"HalfStorage":     f16,
	"BFloat16Storage": bf16,
	"LongStorage":     i64,
	"IntStorage":      i32,
	"ShortStorage":    i16,
	"CharStorage":     i8,
	"ByteStorage":     u8,
	"BoolStorage":     bl,
	"UntypedStorage":  u8, // bytes; _rebuild_tensor_v3 names the tensor's dtype
}

// torchDtypes maps torch dtype globals (torch.float32 and its aliases) to element types.
var torchDtypes = map[string]dtype{
	"float64": f64, "double": f64,
	"float32": f32, "float": f32,
	"float16": f16, "half": f16,
	"bfloat16": bf16,
	"int64":    i64, "long": i64,
	"int32": i32, "int": i32,
	"int16": i16, "short": i16,
	"int8":  i8,
	"uint8": u8,
	"bool":  bl,
}

// safetensorsDtypes maps safetensors dtype codes to element types.
var safetensorsDtypes = map[string]dtype{
	"F64": f64, "F32": f32, "F16": f16, "BF16": bf16,
	"I64": i64, "I32": i32, "I16": i16, "I8": i8,
	"U64": u64, "U32": u32, "U16": u16, "U8": u8,
	"BOOL": bl,
}

// decoder returns a function reading one element of dt at the start of b as float32.
func decoder(dt dtype, order binary.ByteOrder) func(b []byte) float32 {
	switch dt {
	case f64:
		return func(b []byte) float32 { return float32(math.Float64frombits(order.Uint64(b))) }
	case f32:
		return func(b []byte) float32 { return math.Float32frombits(order.Uint32(b)) }
	case f16:
		return func(b []byte) float32 { return halfToFloat(order.Uint16(b)) }
	case bf16:
		return func(b []byte) float32 { return math.Float32frombits(uint32(order.Uint16(b)) << 16) }
	case i64:
		return func(b []byte) float32 { return float32(int64(order.Uint64(b))) }
	case i32:
		return func(b []byte) float32 { return float32(int32(order.Uint32(b))) }
	case i16:
		return func(b []byte) float32 { return float32(int16(order.Uint16(b))) }
	case i8:
		return func(b []byte) float32 { return float32(int8(b[0])) }
	case u64:
		return func(b []byte) float32 { return float32(order.Uint64(b)) }
	case u32:
		return func(b []byte) float32 { return float32(order.Uint32(b)) }
	case u16:
		return func(b []byte) float32 { return float32(order.Uint16(b)) }
	case u8:
		return func(b []byte) float32 { return float32(b[0]) }
	case bl:
		return func(b []byte) float32 {
			if b[0] != 0 {
				return 1
			}
			return 0
		}
	}
	return nil
}

// decodeContiguous converts len(dst) consecutive elements of dt from src.
func decodeContiguous(dst []float32, src []byte, dt dtype, order binary.ByteOrder) {
	if dt == f32 && order == binary.LittleEndian {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
		return
	}
	dec := decoder(dt, order)
	for i := range dst {
		dst[i] = dec(src[i*dt.size:])
	}
}

// halfToFloat converts an IEEE 754 binary16 value exactly to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // zero
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise the fraction.
	e := uint32(127 - 15 + 1)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}
