package main

import (
	"github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vec is a register file holding the kernels' tiles: 16-float tile rows of B and C in two YMM
// registers (AVX2) or one ZMM register (AVX-512). Everything below that takes a vec emits the
// same operations, element by element and in the same order, for both.
//
// The fixed registers, as the hand-written kernels had them:
//
//	GP: CX k steps left, AX (and R8 from the third panel) A, R15 bytes between row panels
//	    of A, BX B (or src), SI the packed panel, DI and R14 C, DX ldc in bytes, R9 ldb in
//	    bytes, R10/R11 scale/shift, R12 relu (or X), R13 the prefetch stream (or mode), R8
//	    beta (AVX2).
//	AVX2: tile row i in Y(2i), Y(2i+1); B's row in Y12:Y13; Y14/Y15 broadcast A values.
//	AVX-512: row panel q's tile rows in Z(6q)…Z(6q+5); B rows in Z28…Z31, one per unrolled
//	    step; Z24…Z26 epilogue temporaries; Z27 zero; K1 the rectifier's mask.
type vec struct {
	zmm bool
}

var (
	avx2   = vec{zmm: false}
	avx512 = vec{zmm: true}
)

// parts is the number of registers per 16-float row; width their size in bytes.
func (v vec) parts() int {
	if v.zmm {
		return 1
	}
	return 2
}

func (v vec) width() int { return 64 / v.parts() }

// acc is the register of part j of tile row r of row panel q.
func (v vec) acc(q, r, j int) VecPhysical {
	if v.zmm {
		return zmm[6*q+r]
	}
	return ymm[2*r+j]
}

// brow is the registers of B's row at unrolled step i.
func (v vec) brow(i int) []VecPhysical {
	if v.zmm {
		return []VecPhysical{zmm[28+i%4]}
	}
	return []VecPhysical{Y12, Y13}
}

// tmp is the register for a broadcast scale or shift while B's row is packed.
func (v vec) tmp() VecPhysical {
	if v.zmm {
		return Z29
	}
	return Y14
}

// aPtrs are the registers addressing A for a group of panels (panels 2 and 3 go through R8).
func aPtrs(panels int) []GPPhysical {
	if panels > 2 {
		return []GPPhysical{RAX, R8}
	}
	return []GPPhysical{RAX}
}

// aBase addresses A's values of row panel q at byte offset ao of the current k step.
func aBase(q, ao int) operand.Mem {
	switch q {
	case 0:
		return m(RAX, ao)
	case 1:
		return mx(RAX, R15, 1, ao)
	case 2:
		return m(R8, ao)
	}
	return mx(R8, R15, 1, ao)
}

// fma accumulates B's row b times row panel q's six A values at ao: one fused multiply-add
// per product, A broadcast into Y14/Y15 (AVX2) or from memory inside the FMA (AVX-512).
func (g *gen) fma(v vec, q, ao int, b []VecPhysical) {
	for r := 0; r < 6; r++ {
		a := aBase(q, ao+4*r)
		if v.zmm {
			g.VFMADD231PS_BCST(a, b[0], v.acc(q, r, 0))
			continue
		}
		t := []VecPhysical{Y14, Y15}[r%2]
		g.VBROADCASTSS(a, t)
		for j := range b {
			g.VFMADD231PS(b[j], t, v.acc(q, r, j))
		}
	}
}

// fmaPanels runs fma for panels row panels.
func (g *gen) fmaPanels(v vec, panels, ao int, b []VecPhysical) {
	for q := 0; q < panels; q++ {
		g.fma(v, q, ao, b)
	}
}

// loadRow loads the 16 floats at disp(base) into b; storeRow stores them back.
func (g *gen) loadRow(v vec, base Register, disp int, b []VecPhysical) {
	for j, r := range b {
		g.VMOVUPS(m(base, disp+j*v.width()), r)
	}
}

func (g *gen) storeRow(v vec, b []VecPhysical, base Register, disp int) {
	for j, r := range b {
		g.VMOVUPS(r, m(base, disp+j*v.width()))
	}
}

// zeroAcc clears the accumulators of panels row panels.
func (g *gen) zeroAcc(v vec, panels int) {
	for q := 0; q < panels; q++ {
		for r := 0; r < 6; r++ {
			for j := 0; j < v.parts(); j++ {
				a := v.acc(q, r, j)
				if v.zmm {
					g.VPXORD(a, a, a)
				} else {
					g.VXORPS(a, a, a)
				}
			}
		}
	}
}

// prefetchRows warms rows rows at R14 (row stride DX bytes): the two cache lines a 16-float
// row may straddle. R14 advances past each row, past the last one too if trailing.
func (g *gen) prefetchRows(rows int, trailing bool) {
	for i := 0; i < rows; i++ {
		g.PREFETCHT0(m(R14, 0))
		g.PREFETCHT0(m(R14, 63))
		if trailing || i < rows-1 {
			g.ADDQ(RDX, R14)
		}
	}
}

// kLoop is the k loop over one B panel: four steps per iteration, then one at a time, then
// on to done. Each iteration runs pre (if any), then step(i) for its unrolled steps i (the
// caller's A offset is 24·i bytes and B's 64·i); A's pointers and bptr advance per iteration.
type kLoop struct {
	name  string // label prefix
	done  string // where the loop goes when CX reaches 0
	bptr  GPPhysical
	pre   func()
	step  func(i int)
	aPtrs []GPPhysical
}

func (g *gen) kLoop(l kLoop) {
	advance := func(steps int) {
		for _, p := range l.aPtrs {
			g.ADDQ(imm(24*steps), p)
		}
		g.ADDQ(imm(64*steps), l.bptr)
	}
	pre := func() {
		if l.pre != nil {
			l.pre()
		}
	}
	g.CMPQ(RCX, imm(4))
	g.JLT(lbl(l.name + "tail"))
	g.Label(l.name + "loop4")
	pre()
	for i := 0; i < 4; i++ {
		l.step(i)
	}
	advance(4)
	g.SUBQ(imm(4), RCX)
	g.CMPQ(RCX, imm(4))
	g.JGE(lbl(l.name + "loop4"))
	g.Label(l.name + "tail")
	g.TESTQ(RCX, RCX)
	g.JEQ(lbl(l.done))
	g.Label(l.name + "loop1")
	pre()
	l.step(0)
	advance(1)
	g.DECQ(RCX)
	g.JNE(lbl(l.name + "loop1"))
}

// step is one k step of panels row panels on the packed B panel at BX.
func (g *gen) step(v vec, panels int) func(i int) {
	return func(i int) {
		b := v.brow(i)
		g.loadRow(v, RBX, 64*i, b)
		g.fmaPanels(v, panels, 24*i, b)
	}
}

// store6 stores (or, with add, adds to C and stores) row panel q's tile rows at DI, one row
// at a time: the AVX-512 epilogue. DI advances six rows.
func (g *gen) store6(v vec, q int, add bool) {
	for r := 0; r < 6; r++ {
		z := v.acc(q, r, 0)
		if add {
			g.VADDPS(m(RDI, 0), z, z)
		}
		g.VMOVUPS(z, m(RDI, 0))
		g.ADDQ(RDX, RDI)
	}
}

// addC adds the AVX2 tile at DI (through R14) to the accumulators; storeC stores them at DI,
// which ends on the tile's last row.
func (g *gen) addC() {
	g.MOVQ(RDI, R14)
	for r := 0; r < 6; r++ {
		if r > 0 {
			g.ADDQ(RDX, R14)
		}
		for j := 0; j < 2; j++ {
			a := avx2.acc(0, r, j)
			g.VADDPS(m(R14, 32*j), a, a)
		}
	}
}

func (g *gen) storeC() {
	for r := 0; r < 6; r++ {
		if r > 0 {
			g.ADDQ(RDX, RDI)
		}
		for j := 0; j < 2; j++ {
			g.VMOVUPS(avx2.acc(0, r, j), m(RDI, 32*j))
		}
	}
}

// finish stores or adds (beta) the tile of panels row panels to C at DI and returns:
// AVX2 keeps beta in R8 and adds C into the registers first, AVX-512 adds and stores row by
// row. Either way each element is acc + c, rounded once.
func (g *gen) finish(v vec, panels int, beta string) {
	store := g.label("store")
	if !v.zmm {
		g.TESTQ(R8, R8)
		g.JEQ(lbl(store))
		g.addC()
		g.Label(store)
		g.storeC()
		g.VZEROUPPER()
		g.RET()
		return
	}
	g.CMPB(g.param(beta), imm(0))
	g.JEQ(lbl(store))
	for q := 0; q < panels; q++ {
		g.store6(v, q, true)
	}
	g.VZEROUPPER()
	g.RET()
	g.Label(store)
	for q := 0; q < panels; q++ {
		g.store6(v, q, false)
	}
	g.VZEROUPPER()
	g.RET()
}

// gradPlainRow is the grad epilogue without the rectifier for tile row r of panel q, with the
// row's scale at off(R10): c += acc·scale, C at DI advancing a row.
func (g *gen) gradPlainRow(v vec, q, r, off int) {
	t := Y14
	if v.zmm {
		t = Z24
	}
	g.VBROADCASTSS(m(R10, off), t)
	for j := 0; j < v.parts(); j++ {
		a := v.acc(q, r, j)
		g.VMULPS(t, a, a)
	}
	for j := 0; j < v.parts(); j++ {
		a := v.acc(q, r, j)
		g.VADDPS(m(RDI, j*v.width()), a, a)
	}
	for j := 0; j < v.parts(); j++ {
		g.VMOVUPS(v.acc(q, r, j), m(RDI, j*v.width()))
	}
	g.ADDQ(RDX, RDI)
}
