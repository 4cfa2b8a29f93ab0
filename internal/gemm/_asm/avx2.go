package main

import (
	. "github.com/mmcloughlin/avo/reg"
)

// emitAVX2 writes kernel_amd64.s: the 6×16 kernels in YMM registers.
func emitAVX2(g *gen) {
	g.kernelAVX()
	g.pack(avx2, 1, "kernelPackAVX")
	g.gradTileAVX()
	g.kernelRowsAVX()
}

// kernelAVX is kernelGo for AVX2+FMA on a packed B panel.
func (g *gen) kernelAVX() {
	g.text("kernelAVX", "func(k int, a, b, c *float32, ldc int, beta bool)")
	g.Comment("The 6×16 tile in Y0…Y11 (row i in Y(2i), Y(2i+1)), B's row in Y12:Y13, A broadcast in Y14/Y15.")
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("a"), RAX)
	g.MOVQ(g.param("b"), RBX)
	g.MOVQ(g.param("c"), RDI)
	g.MOVQ(g.param("ldc"), RDX)
	g.MOVBQZX(g.param("beta"), R8)
	g.SHLQ(imm(2), RDX)
	g.MOVQ(RDI, R14)
	g.prefetchRows(6, false)
	g.zeroAcc(avx2, 1)
	g.kLoop(kLoop{name: "", done: "update", bptr: RBX, aPtrs: aPtrs(1), step: g.step(avx2, 1)})
	g.Label("update")
	g.finish(avx2, 1, "beta")
}

// grow finishes tile row r (Y(2r), Y(2r+1)) through the backward pass of a row operation:
// scale and shift at off(R10) and off(R11), the operation's input X at R14, C at DI; both
// advance a row. As vec's bnGradAVX computes it: c += acc·scale where x·scale + shift > 0,
// else c stays as it is (the blend).
func (g *gen) grow(r, off int) {
	lo, hi := avx2.acc(0, r, 0), avx2.acc(0, r, 1)
	g.VBROADCASTSS(m(R10, off), Y14)
	g.VBROADCASTSS(m(R11, off), Y15)
	g.VMULPS(m(R14, 0), Y14, Y12)
	g.VMULPS(m(R14, 32), Y14, Y13)
	g.VADDPS(Y15, Y12, Y12)
	g.VADDPS(Y15, Y13, Y13)
	g.VMULPS(Y14, lo, lo)
	g.VMULPS(Y14, hi, hi)
	g.VXORPS(Y14, Y14, Y14)
	g.VCMPPS(imm(0x0e), Y14, Y12, Y12) // greater than, ordered: false for NaN
	g.VCMPPS(imm(0x0e), Y14, Y13, Y13)
	g.VMOVUPS(m(RDI, 0), Y15)
	g.VADDPS(Y15, lo, lo)
	g.VBLENDVPS(Y12, lo, Y15, Y15)
	g.VMOVUPS(Y15, m(RDI, 0))
	g.VMOVUPS(m(RDI, 32), Y14)
	g.VADDPS(Y14, hi, hi)
	g.VBLENDVPS(Y13, hi, Y14, Y14)
	g.VMOVUPS(Y14, m(RDI, 32))
	g.ADDQ(RDX, RDI)
	g.ADDQ(RDX, R14)
}

// gradTile finishes the six tile rows with grow (relu) or gradPlainRow.
func (g *gen) gradTile(relu bool) {
	for r := 0; r < 6; r++ {
		if relu {
			g.grow(r, 4*r)
		} else {
			g.gradPlainRow(avx2, 0, r, 4*r)
		}
	}
}

// nextRows warms the six rows of C (DI) and X (R14) below a finished tile: the next tile of
// its B panel, which kernelRowsAVX computes next.
func (g *gen) nextRows() {
	for r := 0; r < 6; r++ {
		if r > 0 {
			g.ADDQ(RDX, RDI)
			g.ADDQ(RDX, R14)
		}
		g.PREFETCHT0(m(RDI, 0))
		g.PREFETCHT0(m(R14, 0))
	}
}

// gradTileAVX finishes the 6×16 tile at tile (row stride 16) into C, through the row
// operation's backward pass at X (C and X of row stride ldc), as kernelRowsAVX's modes 1
// (relu) and 2 do.
func (g *gen) gradTileAVX() {
	g.text("gradTileAVX", "func(tile, c, x *float32, ldc int, scale, shift *float32, relu bool)")
	g.MOVQ(g.param("tile"), RSI)
	g.MOVQ(g.param("c"), RDI)
	g.MOVQ(g.param("x"), R14)
	g.MOVQ(g.param("ldc"), RDX)
	g.MOVQ(g.param("scale"), R10)
	g.MOVQ(g.param("shift"), R11)
	g.MOVBQZX(g.param("relu"), R12)
	g.SHLQ(imm(2), RDX)
	for i := 0; i < 12; i++ {
		g.VMOVUPS(m(RSI, 32*i), ymm[i])
	}
	g.TESTQ(R12, R12)
	g.JEQ(lbl("plain"))
	g.gradTile(true)
	g.nextRows()
	g.VZEROUPPER()
	g.RET()
	g.Label("plain")
	g.gradTile(false)
	g.Comment("X six rows down, where grow would have left it")
	g.LEAQ(mx(RDX, RDX, 2, 0), R12)
	g.SHLQ(imm(1), R12)
	g.ADDQ(R12, R14)
	g.nextRows()
	g.VZEROUPPER()
	g.RET()
}

// kernelRowsAVX runs kernelAVX's product for rows consecutive full row panels of A against one
// B panel: panel i of A starts askip bytes after the end of panel i−1's k steps, tile i of C
// (and of X) 6·ldc floats after tile i−1. mode 0 stores or adds (beta) as kernelAVX; mode 1
// finishes each tile with grow and mode 2 with gradPlainRow, scale and shift advancing six
// rows a tile.
func (g *gen) kernelRowsAVX() {
	g.text("kernelRowsAVX", "func(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)")
	g.MOVQ(g.param("a"), RAX)
	g.MOVQ(g.param("c"), RSI)
	g.MOVQ(g.param("ldc"), RDX)
	g.MOVBQZX(g.param("beta"), R8)
	g.MOVQ(g.param("rows"), R9)
	g.MOVQ(g.param("x"), R12)
	g.MOVQ(g.param("scale"), R10)
	g.MOVQ(g.param("shift"), R11)
	g.MOVQ(g.param("mode"), R13)
	g.SHLQ(imm(2), RDX)

	g.Label("tile")
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("b"), RBX)
	g.MOVQ(RSI, RDI)
	g.MOVQ(RDI, R14)
	g.prefetchRows(6, false)
	g.TESTQ(R13, R13)
	g.JEQ(lbl("zero"))
	g.MOVQ(R12, RDI)
	g.MOVQ(RDI, R14)
	g.prefetchRows(6, false)
	g.MOVQ(RSI, RDI)
	g.Label("zero")
	g.zeroAcc(avx2, 1)
	g.kLoop(kLoop{name: "r", done: "rdone", bptr: RBX, aPtrs: aPtrs(1), step: g.step(avx2, 1)})

	g.Label("rdone")
	g.ADDQ(g.param("askip"), RAX)
	g.CMPQ(R13, imm(1))
	g.JEQ(lbl("grad"))
	g.CMPQ(R13, imm(2))
	g.JEQ(lbl("plain"))
	g.TESTQ(R8, R8)
	g.JEQ(lbl("store"))
	g.addC()
	g.Label("store")
	g.storeC()
	g.JMP(lbl("next"))
	g.Label("grad")
	g.MOVQ(R12, R14)
	g.gradTile(true)
	g.JMP(lbl("next"))
	g.Label("plain")
	g.gradTile(false)

	g.Label("next")
	g.LEAQ(mx(RDX, RDX, 2, 0), R14)
	g.SHLQ(imm(1), R14)
	g.ADDQ(R14, RSI)
	g.ADDQ(R14, R12)
	g.ADDQ(imm(24), R10)
	g.ADDQ(imm(24), R11)
	g.DECQ(R9)
	g.JNE(lbl("tile"))
	g.VZEROUPPER()
	g.RET()
}

// emitIndirect writes indirect_amd64.s.
func emitIndirect(g *gen) {
	g.kernelIndirectAVX()
}

// kernelIndirectAVX: t[i*16+j] = Σ_p a[p*6+i]·b[off[p]+j] for p = 0 … k−1 in order, one fused
// multiply-add each: kernelAVX's step with B's row found through off.
func (g *gen) kernelIndirectAVX() {
	g.text("kernelIndirectAVX", "func(k int, a, b *float32, off *int, t *float32)")
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("a"), RAX)
	g.MOVQ(g.param("b"), RBX)
	g.MOVQ(g.param("off"), RSI)
	g.MOVQ(g.param("t"), RDI)
	g.zeroAcc(avx2, 1)
	g.TESTQ(RCX, RCX)
	g.JEQ(lbl("store"))
	g.Label("loop")
	g.MOVQ(m(RSI, 0), RDX)
	g.VMOVUPS(mx(RBX, RDX, 4, 0), Y12)
	g.VMOVUPS(mx(RBX, RDX, 4, 32), Y13)
	g.fma(avx2, 0, 0, avx2.brow(0))
	g.ADDQ(imm(24), RAX)
	g.ADDQ(imm(8), RSI)
	g.DECQ(RCX)
	g.JNE(lbl("loop"))
	g.Label("store")
	for i := 0; i < 12; i++ {
		g.VMOVUPS(ymm[i], m(RDI, 32*i))
	}
	g.VZEROUPPER()
	g.RET()
}
