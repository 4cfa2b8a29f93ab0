package nn

import "unsafe"

// The input gradient of a depthwise convolution at a horizontal stride of 2 with three taps per
// kernel row (MobileNet's downsampling layers), a whole plane per kernel call. depthwiseBackRows
// spreads each output gradient row to every second column of a zeroed row and correlates it with
// each reversed kernel row, one dwRows call per kernel row: some hundred thousand short calls
// per layer, plus the scalar spread. The kernel here builds the spread rows in registers instead
// (16 input columns need 8 gradient values, placed on even or odd lanes by a permute), keeps the
// three taps of an output row for all kernel rows, and adds onto the input gradient rows in the
// order depthwiseBackRows does, with the same float32 operations, so its results are the same bit
// for bit: per element acc = +0 + w₀·t₀ + w₁·t₁ + w₂·t₂ (each product rounded, the spread's
// zeros included), then acc + old, rows in the order of the output rows. MobileNet's geometry
// (three kernel rows, the vertical stride twice the dilation) has a second kernel for the output
// rows inside the plane, which keeps the input row two consecutive output rows share in a row of
// its own between them (dwBack2r3k512): no store and reload of the plane's rows, which stall
// on planes narrower than a vector, and the nine weights stay in registers.

// back2Off turns the kernel off, so that tests and benchmarks can compare it with
// depthwiseBackRows's own loop (dwRows), as clearing hasAVX512 compares the kernels with Go loops.
var back2Off bool

// back2MaxChunks bounds the input width the kernel takes (16 columns a chunk); wider planes
// keep depthwiseBackRows's own loop.
const back2MaxChunks = 64

// back2Plan is what the kernel needs of a layer's geometry, the same for every plane.
type back2Plan struct {
	nx, nc int // input columns written (depthwiseBackRows's c1 − c0), chunks of 16
	// base[j]: the first output gradient column tap j of chunk 0 reads (may be negative: its
	// lanes before column 0 are not read, +0 in their place).
	base [3]int
	// perm: per tap, 16 bits of lanes that take a gradient value (even or odd lanes, by the
	// parity of the tap's offset); the others hold the spread's zeros.
	perm uint64
	// tbl[c]: chunk c's store mask (bits 0–15: its columns below nx) and, per tap j, which of
	// its eight gradient values lie inside the row (bits 16+16j…23+16j; a 16-bit field each, so
	// that the kernel loads them as whole zmm lane masks with AVX-512F alone).
	tbl [back2MaxChunks]uint64
	// oyA…oyB−1 (oyA ≤ oyB ≤ oh): the output rows dwBack2r3k512 takes, when kh = 3 and sh =
	// 2·dh (each output row's last input row is the next one's first) and all three input rows
	// lie inside the plane; empty otherwise. The rows before and after go to dwBack2k512.
	oyA, oyB int
	// carry: dwBack2r3k512's carried row, nc whole vectors from a 64-byte boundary (carryRow),
	// which its stores and reloads cover exactly.
	carry [(back2MaxChunks + 1) * 16]float32
}

// carryRow is the carried row: nc·16 values of p.carry from a 64-byte boundary on, the first
// nx to be copied in and out.
func (p *back2Plan) carryRow() []float32 {
	off := int(-uintptr(unsafe.Pointer(&p.carry[0])) % 64 / 4)
	return p.carry[off : off+p.nc*16][:p.nx]
}

// back2Plan fills p for g and reports whether the kernel applies (kw = 3, sw = 2, a width of
// at most back2MaxChunks·16). Input column x under tap j reads spread column q = x + pl + (j−2)·dw
// (the index into depthwiseBackRows's up minus its ext), which holds gradient q/2 when q is even
// and 0 ≤ q/2 < ow, and +0 otherwise.
func (g *gconv) back2Plan(p *back2Plan) bool {
	if g.kw != 3 || g.sw != 2 {
		return false
	}
	ow := g.out.W
	p.nx = min(2*(ow-1)+1+2*g.dw-g.pl, g.in.W)
	p.nc = (max(p.nx, 0) + 15) / 16
	if p.nc > back2MaxChunks {
		return false
	}
	p.oyA, p.oyB = 0, 0
	if num := g.in.H - 1 - 2*g.dh + g.pt; g.kh == 3 && g.sh == 2*g.dh && num >= 0 {
		p.oyA = min((g.pt+g.sh-1)/g.sh, g.out.H)
		p.oyB = max(min(num/g.sh+1, g.out.H), p.oyA)
	}
	p.perm = 0
	for j := range 3 {
		s := g.pl + (j-2)*g.dw
		par := s & 1
		p.base[j] = (s + par) >> 1
		p.perm |= uint64(0x5555<<par) << (16 * j)
	}
	for c := range p.nc {
		e := uint64(0xffff)
		if r := p.nx - 16*c; r < 16 {
			e = 1<<r - 1
		}
		for j, b := range p.base {
			for k := range 8 {
				if v := 8*c + b + k; v >= 0 && v < ow {
					e |= 1 << (16 + 16*j + k)
				}
			}
		}
		p.tbl[c] = e
	}
	return true
}
