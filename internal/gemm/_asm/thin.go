package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/reg"
)

// thinPrefetch is how far ahead along each of B's and C's rows kernelThin512 prefetches, in
// bytes: 16 panels. B's rows are read, and C's written, as K + M concurrent streams, one per
// row, each advancing a panel (64 bytes) per pass over the rows: more than the hardware
// prefetchers follow. The prefetches go to L2 (PREFETCHT1): prefetched into L1 (PREFETCHT0,
// B only) MobileNetV2's thin products ran 1.1–1.6× slower in the network, presumably because
// L1's few miss buffers cannot hold K + M streams' misses (Zen 4, 2026-12-03; 512 to 2048
// bytes ahead into L2 measured alike, prefetching C too a little faster than B alone).
const thinPrefetch = 1024

// kernelThin512 computes C = A·op(B) (or C += …, beta) for rows rows of C, at most 24 (up to
// four row panels of A, ak floats apart), over panels consecutive 16-column panels of B read
// straight from src (row stride ldb), with the row operation applied in registers: neither
// packed nor stored, as a B panel that feeds one group of rows needs no packing, and one call
// replaces the Go loop's calls per panel. Only the first rows rows of C are written: the
// zero-padded rows of the last row panel are computed (as full tiles compute them) and
// dropped, so edge rows get exactly the arithmetic of full tiles with no copy. Per element,
// the operations are kernelPack512's: FMAs from zero in k order, A broadcast from memory, then
// a store or one add of C.
//
// Registers: AX and R8 A's panels (as in the other kernels), R15 bytes between row panels,
// BX B's current row, SI the current B panel, R9 ldb bytes, CX k steps left, R14 the current
// C panel and DI its row, DX ldc bytes, R10/R11/R12 scale/shift/relu, R13 panels left.
func (g *gen) kernelThin512() {
	g.text("kernelThin512", "func(k int, a *float32, ak int, src *float32, ldb int, c *float32, ldc int, beta bool, rows int, panels int, scale, shift *float32, relu bool)")
	g.Comment("A whole product of at most 24 rows, B read in place; see internal/gemm/_asm/thin.go.")
	g.MOVQ(g.param("ak"), R15)
	g.MOVQ(g.param("src"), RSI)
	g.MOVQ(g.param("ldb"), R9)
	g.MOVQ(g.param("c"), R14)
	g.MOVQ(g.param("ldc"), RDX)
	g.MOVQ(g.param("panels"), R13)
	g.MOVBQZX(g.param("relu"), R12)
	g.SHLQ(imm(2), R15)
	g.SHLQ(imm(2), R9)
	g.SHLQ(imm(2), RDX)
	g.VPXORD(Z27, Z27, Z27)
	g.MOVQ(g.param("rows"), RCX)
	g.CMPQ(RCX, imm(18))
	g.JGT(lbl("t4"))
	g.CMPQ(RCX, imm(12))
	g.JGT(lbl("t3"))
	g.CMPQ(RCX, imm(6))
	g.JGT(lbl("t2"))
	for p := 1; p <= 4; p++ {
		g.thinGroup(p)
	}
}

// thinGroup emits tp: the panel loop for p row panels.
func (g *gen) thinGroup(p int) {
	n := fmt.Sprint(p)
	g.Label("t" + n)
	g.MOVQ(g.param("a"), RAX)
	if p > 2 {
		g.LEAQ(mx(RAX, R15, 2, 0), R8)
	}
	g.MOVQ(RSI, RBX)
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("scale"), R10)
	g.MOVQ(g.param("shift"), R11)
	g.zeroAcc(avx512, p)
	for _, r := range []GPPhysical{R10, R11, R12} {
		g.TESTQ(r, r)
		g.JNE(lbl("op" + n))
	}
	g.thinLoop(p, n)
	g.JMP(lbl("e" + n))
	g.thinOpLoop(p, n)
	g.Label("e" + n)
	g.thinStore(p, n)
	g.ADDQ(imm(64), RSI)
	g.ADDQ(imm(64), R14)
	g.DECQ(R13)
	g.JNE(lbl("t" + n))
	g.VZEROUPPER()
	g.RET()
}

// thinRow loads B's row at BX into b, prefetches further along it into L2 and steps to the
// next row.
func (g *gen) thinRow(b VecPhysical) {
	g.VMOVUPS(m(RBX, 0), b)
	g.PREFETCHT1(m(RBX, thinPrefetch))
	g.ADDQ(R9, RBX)
}

// thinLoop is the k loop without a row operation: four steps per iteration, then one at a time.
func (g *gen) thinLoop(p int, n string) {
	advance := func(steps int) {
		for _, r := range aPtrs(p) {
			g.ADDQ(imm(24*steps), r)
		}
	}
	g.CMPQ(RCX, imm(4))
	g.JLT(lbl("k" + n + "tail"))
	g.Label("k" + n + "loop4")
	for i := 0; i < 4; i++ {
		b := avx512.brow(i)
		g.thinRow(b[0])
		g.fmaPanels(avx512, p, 24*i, b)
	}
	advance(4)
	g.SUBQ(imm(4), RCX)
	g.CMPQ(RCX, imm(4))
	g.JGE(lbl("k" + n + "loop4"))
	g.Label("k" + n + "tail")
	g.TESTQ(RCX, RCX)
	g.JEQ(lbl("e" + n))
	g.Label("k" + n + "loop1")
	b := avx512.brow(0)
	g.thinRow(b[0])
	g.fmaPanels(avx512, p, 0, b)
	advance(1)
	g.DECQ(RCX)
	g.JNE(lbl("k" + n + "loop1"))
}

// thinOpLoop is the k loop with a row operation, one step at a time, rounding each part of
// the operation exactly as packRowOp does (the same instructions and operand order).
func (g *gen) thinOpLoop(p int, n string) {
	b, t := avx512.brow(0), avx512.tmp()
	g.Label("op" + n)
	g.thinRow(b[0])
	for _, op := range []struct {
		ptr GPPhysical
		mul bool
	}{{R10, true}, {R11, false}} {
		skip := g.label("no")
		g.TESTQ(op.ptr, op.ptr)
		g.JEQ(lbl(skip))
		g.VBROADCASTSS(m(op.ptr, 0), t)
		if op.mul {
			g.VMULPS(t, b[0], b[0])
		} else {
			g.VADDPS(t, b[0], b[0])
		}
		g.ADDQ(imm(4), op.ptr)
		g.Label(skip)
	}
	skip := g.label("norelu")
	g.TESTQ(R12, R12)
	g.JEQ(lbl(skip))
	g.VMAXPS(b[0], Z27, b[0])
	g.Label(skip)
	g.fmaPanels(avx512, p, 0, b)
	for _, r := range aPtrs(p) {
		g.ADDQ(imm(24), r)
	}
	g.DECQ(RCX)
	g.JNE(lbl("op" + n))
}

// thinStore stores (or adds, beta) the first rows tile rows of the p row panels at R14, as
// store6 does row by row, prefetching each row further along into L2 (so that the store's
// read for ownership, or beta's read, finds the line there); the rows of the last panel past
// rows are dropped.
func (g *gen) thinStore(p int, n string) {
	for _, add := range []bool{true, false} {
		done := g.label("sd")
		if add {
			g.CMPB(g.param("beta"), imm(0))
			g.JEQ(lbl("st" + n))
		} else {
			g.Label("st" + n)
		}
		g.MOVQ(R14, RDI)
		for r := 0; r < 6*p; r++ {
			if r >= 6*(p-1) && r > 0 {
				g.CMPQ(g.param("rows"), imm(r))
				g.JLE(lbl(done))
			}
			z := zmm[r]
			if add {
				g.VADDPS(m(RDI, 0), z, z)
			}
			g.VMOVUPS(z, m(RDI, 0))
			g.PREFETCHT1(m(RDI, thinPrefetch))
			if r < 6*p-1 {
				g.ADDQ(RDX, RDI)
			}
		}
		g.Label(done)
		if add {
			g.JMP(lbl("sx" + n))
		}
	}
	g.Label("sx" + n)
}
