package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/reg"
)

// emitAVX512 writes kernel512_amd64.s: the AVX2 kernels with each 16-column tile row in one
// ZMM register and up to four row panels (a 24×16 tile) per pass over the B panel. A 24×16
// tile takes 24 FMAs per k step for one load of B: enough independent accumulators to cover
// the FMA latency, with A's values broadcast from memory inside the FMAs. Only AVX-512 F.
func emitAVX512(g *gen) {
	g.kernelRows512()
	g.pack(avx512, 1, "kernelPack512")
	g.pack(avx512, 4, "kernelPack4x512")
	g.kernelThin512()
}

// kernelRows512 has kernelRowsAVX's contract, with the row panels taken four at a time, then
// three, two or one for the rest. With a grad epilogue (modes 1 and 2) they are taken one at a
// time: those products are short (K = 48) and bound by the epilogue's streams of C and X, and
// six rows at a time ran MulGrad 10–15% faster on Zen 4 than 24 (BenchmarkMulGrad).
// R13 is A's current row panel, R15 the bytes from one row panel of A to the next.
func (g *gen) kernelRows512() {
	g.text("kernelRows512", "func(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)")
	g.Comment(
		"Row panel q's tile rows in Z(6q)…Z(6q+5), B rows in Z28…Z31, Z27 zero, Z24…Z26 and K1",
		"for the grad epilogue; A's panels at AX, AX+R15, R8, R8+R15 (R13 the group's first).")
	g.MOVQ(g.param("a"), R13)
	g.MOVQ(g.param("c"), RSI)
	g.MOVQ(g.param("ldc"), RDX)
	g.MOVQ(g.param("rows"), R9)
	g.MOVQ(g.param("x"), R12)
	g.MOVQ(g.param("scale"), R10)
	g.MOVQ(g.param("shift"), R11)
	g.MOVQ(g.param("k"), R15)
	g.IMUL3Q(imm(24), R15, R15)
	g.ADDQ(g.param("askip"), R15)
	g.SHLQ(imm(2), RDX)
	g.VPXORD(Z27, Z27, Z27)

	g.Label("group")
	g.MOVQ(R13, RAX)
	g.LEAQ(mx(R13, R15, 2, 0), R8)
	g.MOVQ(g.param("k"), RCX)
	g.MOVQ(g.param("b"), RBX)
	g.CMPQ(g.param("mode"), imm(0))
	g.JNE(lbl("g1"))
	g.CMPQ(R9, imm(4))
	g.JGE(lbl("g4"))
	g.CMPQ(R9, imm(2))
	g.JGT(lbl("g3"))
	g.JEQ(lbl("g2"))
	g.JMP(lbl("g1"))

	g.Label("next")
	g.TESTQ(R9, R9)
	g.JNE(lbl("group"))
	g.VZEROUPPER()
	g.RET()

	for p := 4; p >= 2; p-- {
		g.rowsGroup(p)
	}
	g.rowsGroup1()
}

// rowsGroup emits group gp: p row panels against the B panel, stored or added (beta).
func (g *gen) rowsGroup(p int) {
	n := fmt.Sprint(p)
	g.Label("g" + n)
	g.MOVQ(RSI, R14)
	g.prefetchRows(6*p, true)
	g.zeroAcc(avx512, p)
	g.kLoop(kLoop{name: "k" + n, done: "e" + n, bptr: RBX, aPtrs: aPtrs(p), step: g.step(avx512, p)})
	g.Label("e" + n)
	g.MOVQ(RSI, RDI)
	g.CMPB(g.param("beta"), imm(0))
	g.JEQ(lbl("st" + n))
	for q := 0; q < p; q++ {
		g.store6(avx512, q, true)
	}
	g.JMP(lbl("a" + n))
	g.Label("st" + n)
	for q := 0; q < p; q++ {
		g.store6(avx512, q, false)
	}
	g.Label("a" + n)
	g.advance(p)
	g.JMP(lbl("next"))
}

// rowsGroup1 is rowsGroup(1) with the grad epilogues of modes 1 and 2.
func (g *gen) rowsGroup1() {
	g.Label("g1")
	g.MOVQ(RSI, R14)
	g.prefetchRows(6, true)
	g.CMPQ(g.param("mode"), imm(0))
	g.JEQ(lbl("z1"))
	g.MOVQ(R12, R14)
	g.prefetchRows(6, true)
	g.Label("z1")
	g.zeroAcc(avx512, 1)
	g.kLoop(kLoop{name: "k1", done: "e1", bptr: RBX, aPtrs: aPtrs(1), step: g.step(avx512, 1)})
	g.Label("e1")
	g.MOVQ(RSI, RDI)
	g.MOVQ(g.param("mode"), R14)
	g.CMPQ(R14, imm(1))
	g.JEQ(lbl("gr1"))
	g.CMPQ(R14, imm(2))
	g.JEQ(lbl("gp1"))
	g.CMPB(g.param("beta"), imm(0))
	g.JEQ(lbl("st1"))
	g.store6(avx512, 0, true)
	g.JMP(lbl("a1"))
	g.Label("st1")
	g.store6(avx512, 0, false)
	g.JMP(lbl("a1"))
	g.Label("gr1")
	g.MOVQ(R12, R14)
	for r := 0; r < 6; r++ {
		g.gradRow512(zmm[r], 4*r)
	}
	g.JMP(lbl("a1"))
	g.Label("gp1")
	for r := 0; r < 6; r++ {
		g.gradPlainRow(avx512, 0, r, 4*r)
	}
	g.Label("a1")
	g.advance(1)
	g.JMP(lbl("next"))
}

// gradRow512 is the AVX2 grow for one tile row: c += acc·scale where x·scale + shift > 0, with
// the row's scale and shift at off(R10) and off(R11), X at R14 and C at DI. The masked
// register move keeps the other elements of C as they are, as grow's blend does; a masked
// store to memory would do the same but is several times slower on Zen 4.
func (g *gen) gradRow512(z VecPhysical, off int) {
	g.VBROADCASTSS(m(R10, off), Z24)
	g.VBROADCASTSS(m(R11, off), Z25)
	g.VMULPS(m(R14, 0), Z24, Z26)
	g.VADDPS(Z25, Z26, Z26)
	g.VCMPPS(imm(0x0e), Z27, Z26, K1)
	g.VMULPS(Z24, z, z)
	g.VMOVUPS(m(RDI, 0), Z26)
	g.VADDPS(Z26, z, z)
	g.VMOVAPS(z, K1, Z26)
	g.VMOVUPS(Z26, m(RDI, 0))
	g.ADDQ(RDX, RDI)
	g.ADDQ(RDX, R14)
}

// advance moves past a group of p row panels: A, C, X, scale and shift, and the panel count.
func (g *gen) advance(p int) {
	g.IMUL3Q(imm(p), R15, R14)
	g.ADDQ(R14, R13)
	g.IMUL3Q(imm(6*p), RDX, R14)
	g.ADDQ(R14, RSI)
	g.ADDQ(R14, R12)
	g.ADDQ(imm(24*p), R10)
	g.ADDQ(imm(24*p), R11)
	g.SUBQ(imm(p), R9)
}
