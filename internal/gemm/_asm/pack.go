package main

import (
	"github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	packSig  = "func(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)"
	pack4Sig = "func(k int, a *float32, ak int, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)"
)

// pack emits kernelPackAVX (avx2, 1 panel), kernelPack512 (avx512, 1) and kernelPack4x512
// (avx512, 4): the product of panels row panels of A (ak floats apart) with a B panel that it
// reads from src (row stride ldb), passes through the row operation and stores at dst on the
// way. Step p prefetches src's row p+dist, or once at most dist steps remain, the next
// panel's rows from next (R14 counts down to the switch, then is -1).
func (g *gen) pack(v vec, panels int, name string) {
	if panels == 4 {
		g.text(name, pack4Sig)
	} else {
		g.text(name, packSig)
	}
	g.Comment(
		"Packs B's panel while multiplying it; see internal/gemm/_asm/pack.go.",
		"R13 prefetches dist rows ahead, then the next panel (R14 counts down to the switch).")
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("a"), RAX)
	if panels > 1 {
		g.MOVQ(g.param("ak"), R15)
	}
	g.MOVQ(g.param("src"), RBX)
	g.MOVQ(g.param("ldb"), R9)
	g.MOVQ(g.param("dst"), RSI)
	g.MOVQ(g.param("c"), RDI)
	g.MOVQ(g.param("ldc"), RDX)
	if !v.zmm {
		g.MOVBQZX(g.param("beta"), R8)
	}
	g.MOVQ(g.param("scale"), R10)
	g.MOVQ(g.param("shift"), R11)
	g.MOVBQZX(g.param("relu"), R12)
	if panels > 1 {
		g.SHLQ(imm(2), R15)
		g.LEAQ(mx(RAX, R15, 2, 0), R8)
	}
	g.SHLQ(imm(2), RDX)
	g.SHLQ(imm(2), R9)
	g.MOVQ(RDI, R14)
	g.prefetchRows(6*panels, v.zmm)
	g.zeroAcc(v, panels)
	if v.zmm {
		g.VPXORD(Z27, Z27, Z27)
	}
	g.MOVQ(g.param("dist"), R14)
	g.MOVQ(R14, R13)
	g.IMULQ(R9, R13)
	g.ADDQ(RBX, R13)
	g.TESTQ(RCX, RCX)
	g.JEQ(lbl("done"))
	for _, r := range []GPPhysical{R10, R11, R12} {
		g.TESTQ(r, r)
		g.JNE(lbl("oprow"))
	}
	g.kLoop(kLoop{
		name: "p", done: "done", bptr: RSI, aPtrs: aPtrs(panels),
		pre: g.prefetchSwitch,
		step: func(i int) {
			b := v.brow(i)
			g.readSrc(v, b)
			g.storeRow(v, b, RSI, 64*i)
			g.fmaPanels(v, panels, 24*i, b)
		},
	})
	g.JMP(lbl("done"))
	g.packRowOp(v, panels)
	g.Label("done")
	g.finish(v, panels, "beta")
}

// prefetchSwitch moves the prefetch stream R13 to the next panel once at most dist steps
// remain (CX <= R14); R14 = -1 then keeps it there.
func (g *gen) prefetchSwitch() {
	skip := g.label("pf")
	g.CMPQ(RCX, R14)
	g.JGT(lbl(skip))
	g.MOVQ(g.param("next"), R13)
	g.MOVQ(operand.I32(-1), R14)
	g.Label(skip)
}

// readSrc loads B's row at BX into b, prefetches at R13 and advances both a row (R9 bytes).
func (g *gen) readSrc(v vec, b []VecPhysical) {
	g.loadRow(v, RBX, 0, b)
	g.PREFETCHT0(m(R13, 63))
	g.ADDQ(R9, RBX)
	g.ADDQ(R9, R13)
}

// packRowOp is pack's loop with a row operation: b' = b*scale (if any), + shift (if any),
// then (0 > b') ? 0 : b' if relu, rounding after each step exactly as packGo does. The
// maximum in Go's operand order is VMAXPS b, zero, b: in Intel order (zero > b) ? zero : b,
// which keeps NaN and -0 like Go's x < 0 test.
func (g *gen) packRowOp(v vec, panels int) {
	b, t := v.brow(0), v.tmp()
	g.Label("oprow")
	g.Comment("With a row operation: b' = max(0, b*scale + shift), each part optional and rounded.")
	g.prefetchSwitch()
	g.readSrc(v, b)
	for _, op := range []struct {
		ptr  GPPhysical
		skip string
		mul  bool
	}{{R10, "noscale", true}, {R11, "noshift", false}} {
		g.TESTQ(op.ptr, op.ptr)
		g.JEQ(lbl(op.skip))
		g.VBROADCASTSS(m(op.ptr, 0), t)
		for _, r := range b {
			if op.mul {
				g.VMULPS(t, r, r)
			} else {
				g.VADDPS(t, r, r)
			}
		}
		g.ADDQ(imm(4), op.ptr)
		g.Label(op.skip)
	}
	g.TESTQ(R12, R12)
	g.JEQ(lbl("norelu"))
	zero := Z27
	if !v.zmm {
		zero = Y14
		g.VXORPS(zero, zero, zero)
	}
	for _, r := range b {
		g.VMAXPS(r, zero, r)
	}
	g.Label("norelu")
	g.storeRow(v, b, RSI, 0)
	g.fmaPanels(v, panels, 0, b)
	for _, p := range aPtrs(panels) {
		g.ADDQ(imm(24), p)
	}
	g.ADDQ(imm(64), RSI)
	g.DECQ(RCX)
	g.JNE(lbl("oprow"))
}
