//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 kernels: kernel_amd64.s's 6×16 kernels with each 16-column tile row in one ZMM
// register, and with up to four row panels (a 24×16 tile) per pass over the B panel. Every
// element gets the AVX2 kernels' arithmetic in the same order (a fused multiply-add per product
// in k order from zero, then the same epilogue with the same operand order), so the results
// are theirs bit for bit. Only AVX-512 F is used.
//
// Registers: the accumulators of row panel q (q = 0…3) are Z(6q)…Z(6q+5), one tile row each;
// Z28…Z31 hold B rows; Z24…Z26 are epilogue temporaries; Z27 is zero; K1 is the rectifier's
// mask. A 24×16 tile takes 24 FMAs per k step for one load of B: enough independent
// accumulators to cover the FMA latency, and A's values come broadcast from memory inside
// the FMAs, so loads never bound the loop.

// F6 multiplies the B row zb by row panel's six A values at ao+base, broadcast from memory.
#define F6(ao, base, zb, z0, z1, z2, z3, z4, z5) \
	VFMADD231PS.BCST (ao+0)base, zb, z0  \
	VFMADD231PS.BCST (ao+4)base, zb, z1  \
	VFMADD231PS.BCST (ao+8)base, zb, z2  \
	VFMADD231PS.BCST (ao+12)base, zb, z3 \
	VFMADD231PS.BCST (ao+16)base, zb, z4 \
	VFMADD231PS.BCST (ao+20)base, zb, z5

// S1…S4: one k step of 1…4 row panels (A at AX, AX+R15, R8, R8+R15) on the B row at bo(BX).
#define S1(ao, bo, zb) \
	VMOVUPS bo(BX), zb \
	F6(ao, (AX), zb, Z0, Z1, Z2, Z3, Z4, Z5)

#define S2(ao, bo, zb) \
	S1(ao, bo, zb) \
	F6(ao, (AX)(R15*1), zb, Z6, Z7, Z8, Z9, Z10, Z11)

#define S3(ao, bo, zb) \
	S2(ao, bo, zb) \
	F6(ao, (R8), zb, Z12, Z13, Z14, Z15, Z16, Z17)

#define S4(ao, bo, zb) \
	S3(ao, bo, zb) \
	F6(ao, (R8)(R15*1), zb, Z18, Z19, Z20, Z21, Z22, Z23)

#define ZERO6(z0, z1, z2, z3, z4, z5) \
	VPXORD z0, z0, z0 \
	VPXORD z1, z1, z1 \
	VPXORD z2, z2, z2 \
	VPXORD z3, z3, z3 \
	VPXORD z4, z4, z4 \
	VPXORD z5, z5, z5

// PF6 warms six rows at R14 (row stride DX bytes), advancing R14 past them.
#define PF6 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14 \
	PREFETCHT0 (R14)   \
	PREFETCHT0 63(R14) \
	ADDQ       DX, R14

// ST6 stores six tile rows to C at DI; AS6 adds them to it (acc + c, as kernelAVX's ADDC).
// Both advance DI six rows.
#define ST1(z) \
	VMOVUPS z, (DI) \
	ADDQ    DX, DI

#define ST6(z0, z1, z2, z3, z4, z5) \
	ST1(z0) \
	ST1(z1) \
	ST1(z2) \
	ST1(z3) \
	ST1(z4) \
	ST1(z5)

#define AS1(z) \
	VADDPS  (DI), z, z \
	VMOVUPS z, (DI)    \
	ADDQ    DX, DI

#define AS6(z0, z1, z2, z3, z4, z5) \
	AS1(z0) \
	AS1(z1) \
	AS1(z2) \
	AS1(z3) \
	AS1(z4) \
	AS1(z5)

// GR1 is kernel_amd64.s's GROW for one tile row: c += acc·scale where x·scale + shift > 0,
// with the row's scale and shift at off(R10) and off(R11), X at R14 and C at DI. The masked
// register move keeps the other elements of C as they are, as GROW's blend does; a masked
// store to memory would do the same but is several times slower on Zen 4.
#define GR1(z, off) \
	VBROADCASTSS off(R10), Z24      \
	VBROADCASTSS off(R11), Z25      \
	VMULPS       (R14), Z24, Z26    \
	VADDPS       Z25, Z26, Z26      \
	VCMPPS       $0x0e, Z27, Z26, K1 \
	VMULPS       Z24, z, z          \
	VMOVUPS      (DI), Z26          \
	VADDPS       Z26, z, z          \
	VMOVAPS      z, K1, Z26         \
	VMOVUPS      Z26, (DI)          \
	ADDQ         DX, DI             \
	ADDQ         DX, R14

#define GR6(z0, z1, z2, z3, z4, z5, o) \
	GR1(z0, (o+0))  \
	GR1(z1, (o+4))  \
	GR1(z2, (o+8))  \
	GR1(z3, (o+12)) \
	GR1(z4, (o+16)) \
	GR1(z5, (o+20))

// GP1 is GROWPLAIN for one tile row: c += acc·scale.
#define GP1(z, off) \
	VBROADCASTSS off(R10), Z24 \
	VMULPS       Z24, z, z     \
	VADDPS       (DI), z, z    \
	VMOVUPS      z, (DI)       \
	ADDQ         DX, DI

#define GP6(z0, z1, z2, z3, z4, z5, o) \
	GP1(z0, (o+0))  \
	GP1(z1, (o+4))  \
	GP1(z2, (o+8))  \
	GP1(z3, (o+12)) \
	GP1(z4, (o+16)) \
	GP1(z5, (o+20))

// ADVANCE moves past a group of p row panels: A, C, X, scale and shift, and the panel count.
#define ADVANCE(p) \
	IMUL3Q $p, R15, R14     \
	ADDQ   R14, R13         \
	IMUL3Q $(6*p), DX, R14  \
	ADDQ   R14, SI          \
	ADDQ   R14, R12         \
	ADDQ   $(24*p), R10     \
	ADDQ   $(24*p), R11     \
	SUBQ   $p, R9

// One k step of kernelPack512: B's row at BX (stride R9) into zb, copied to the packed panel at
// bo(SI), prefetching at R13.
#define PSTEP(ao, bo, zb) \
	VMOVUPS    (BX), zb    \
	PREFETCHT0 63(R13)     \
	ADDQ       R9, BX      \
	ADDQ       R9, R13     \
	VMOVUPS    zb, bo(SI)  \
	F6(ao, (AX), zb, Z0, Z1, Z2, Z3, Z4, Z5)

// As kernelPackAVX's: once at most dist steps remain, prefetch the next panel instead.
#define PF_SWITCH \
	CMPQ CX, R14          \
	JGT  3(PC)            \
	MOVQ next+88(FP), R13 \
	MOVQ $-1, R14

// One k step of kernelPack4x512: kernelPack512's PSTEP for four row panels.
#define PSTEP4(ao, bo, zb) \
	VMOVUPS    (BX), zb   \
	PREFETCHT0 63(R13)    \
	ADDQ       R9, BX     \
	ADDQ       R9, R13    \
	VMOVUPS    zb, bo(SI) \
	F6(ao, (AX), zb, Z0, Z1, Z2, Z3, Z4, Z5)          \
	F6(ao, (AX)(R15*1), zb, Z6, Z7, Z8, Z9, Z10, Z11) \
	F6(ao, (R8), zb, Z12, Z13, Z14, Z15, Z16, Z17)    \
	F6(ao, (R8)(R15*1), zb, Z18, Z19, Z20, Z21, Z22, Z23)

// PF_SWITCH for kernelPack4x512's frame.
#define PF_SWITCH4 \
	CMPQ CX, R14           \
	JGT  3(PC)             \
	MOVQ next+96(FP), R13  \
	MOVQ $-1, R14

// func kernelRows512(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)
// kernelRowsAVX's contract (see kernel_amd64.s), with the row panels taken four at a time,
// then three, two or one for the rest. With a grad epilogue (modes 1 and 2) they are taken one
// at a time: those products are short (K = 48) and bound by the epilogue's streams of C and X,
// and six rows at a time ran MulGrad 10–15% faster on Zen 4 than 24 (BenchmarkMulGrad).
TEXT ·kernelRows512(SB), NOSPLIT, $0-96
	MOVQ   a+8(FP), R13
	MOVQ   c+24(FP), SI
	MOVQ   ldc+32(FP), DX
	MOVQ   rows+48(FP), R9
	MOVQ   x+64(FP), R12
	MOVQ   scale+72(FP), R10
	MOVQ   shift+80(FP), R11
	MOVQ   k+0(FP), R15
	IMUL3Q $24, R15, R15
	ADDQ   askip+56(FP), R15 // bytes from one row panel of A to the next
	SHLQ   $2, DX
	VPXORD Z27, Z27, Z27

group:
	MOVQ R13, AX
	LEAQ (R13)(R15*2), R8
	MOVQ k+0(FP), CX
	MOVQ b+16(FP), BX
	CMPQ mode+88(FP), $0
	JNE  g1
	CMPQ R9, $4
	JGE  g4
	CMPQ R9, $2
	JGT  g3
	JEQ  g2
	JMP  g1

next:
	TESTQ R9, R9
	JNE   group
	VZEROUPPER
	RET

g4:
	MOVQ SI, R14
	PF6
	PF6
	PF6
	PF6
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	ZERO6(Z12, Z13, Z14, Z15, Z16, Z17)
	ZERO6(Z18, Z19, Z20, Z21, Z22, Z23)
	CMPQ CX, $4
	JLT  t4

l4:
	S4(0, 0, Z28)
	S4(24, 64, Z29)
	S4(48, 128, Z30)
	S4(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $96, R8
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  l4

t4:
	TESTQ CX, CX
	JEQ   e4

u4:
	S4(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $24, R8
	ADDQ $64, BX
	DECQ CX
	JNE  u4

e4:
	MOVQ SI, DI
	CMPB beta+40(FP), $0
	JEQ  st4
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	AS6(Z6, Z7, Z8, Z9, Z10, Z11)
	AS6(Z12, Z13, Z14, Z15, Z16, Z17)
	AS6(Z18, Z19, Z20, Z21, Z22, Z23)
	JMP  a4

st4:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	ST6(Z6, Z7, Z8, Z9, Z10, Z11)
	ST6(Z12, Z13, Z14, Z15, Z16, Z17)
	ST6(Z18, Z19, Z20, Z21, Z22, Z23)

a4:
	ADVANCE(4)
	JMP next

g3:
	MOVQ SI, R14
	PF6
	PF6
	PF6
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	ZERO6(Z12, Z13, Z14, Z15, Z16, Z17)
	CMPQ CX, $4
	JLT  t3

l3:
	S3(0, 0, Z28)
	S3(24, 64, Z29)
	S3(48, 128, Z30)
	S3(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $96, R8
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  l3

t3:
	TESTQ CX, CX
	JEQ   e3

u3:
	S3(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $24, R8
	ADDQ $64, BX
	DECQ CX
	JNE  u3

e3:
	MOVQ SI, DI
	CMPB beta+40(FP), $0
	JEQ  st3
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	AS6(Z6, Z7, Z8, Z9, Z10, Z11)
	AS6(Z12, Z13, Z14, Z15, Z16, Z17)
	JMP  a3

st3:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	ST6(Z6, Z7, Z8, Z9, Z10, Z11)
	ST6(Z12, Z13, Z14, Z15, Z16, Z17)

a3:
	ADVANCE(3)
	JMP next

g2:
	MOVQ SI, R14
	PF6
	PF6
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	CMPQ CX, $4
	JLT  t2

l2:
	S2(0, 0, Z28)
	S2(24, 64, Z29)
	S2(48, 128, Z30)
	S2(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  l2

t2:
	TESTQ CX, CX
	JEQ   e2

u2:
	S2(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNE  u2

e2:
	MOVQ SI, DI
	CMPB beta+40(FP), $0
	JEQ  st2
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	AS6(Z6, Z7, Z8, Z9, Z10, Z11)
	JMP  a2

st2:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	ST6(Z6, Z7, Z8, Z9, Z10, Z11)

a2:
	ADVANCE(2)
	JMP next

g1:
	MOVQ SI, R14
	PF6
	CMPQ mode+88(FP), $0
	JEQ  z1
	MOVQ R12, R14
	PF6

z1:
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	CMPQ CX, $4
	JLT  t1

l1:
	S1(0, 0, Z28)
	S1(24, 64, Z29)
	S1(48, 128, Z30)
	S1(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  l1

t1:
	TESTQ CX, CX
	JEQ   e1

u1:
	S1(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNE  u1

e1:
	MOVQ SI, DI
	MOVQ mode+88(FP), R14
	CMPQ R14, $1
	JEQ  gr1
	CMPQ R14, $2
	JEQ  gp1
	CMPB beta+40(FP), $0
	JEQ  st1
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	JMP  a1

st1:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	JMP a1

gr1:
	MOVQ R12, R14
	GR6(Z0, Z1, Z2, Z3, Z4, Z5, 0)
	JMP a1

gp1:
	GP6(Z0, Z1, Z2, Z3, Z4, Z5, 0)

a1:
	ADVANCE(1)
	JMP next

// func kernelPack512(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)
// kernelPackAVX's contract with the 6×16 tile in Z0…Z5.
TEXT ·kernelPack512(SB), NOSPLIT, $0-104
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), AX
	MOVQ    src+16(FP), BX
	MOVQ    ldb+24(FP), R9
	MOVQ    dst+32(FP), SI
	MOVQ    c+40(FP), DI
	MOVQ    ldc+48(FP), DX
	MOVQ    scale+64(FP), R10
	MOVQ    shift+72(FP), R11
	MOVBQZX relu+80(FP), R12
	SHLQ    $2, DX
	SHLQ    $2, R9
	MOVQ    DI, R14
	PF6
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	VPXORD  Z27, Z27, Z27
	MOVQ    dist+96(FP), R14
	MOVQ    R14, R13
	IMULQ   R9, R13
	ADDQ    BX, R13
	TESTQ   CX, CX
	JEQ     pdone
	TESTQ   R10, R10
	JNE     poprow
	TESTQ   R11, R11
	JNE     poprow
	TESTQ   R12, R12
	JNE     poprow
	CMPQ    CX, $4
	JLT     ptail

ploop4:
	PF_SWITCH
	PSTEP(0, 0, Z28)
	PSTEP(24, 64, Z29)
	PSTEP(48, 128, Z30)
	PSTEP(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $256, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  ploop4

ptail:
	TESTQ CX, CX
	JEQ   pdone

ploop1:
	PF_SWITCH
	PSTEP(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $64, SI
	DECQ CX
	JNE  ploop1
	JMP  pdone

	// With a row operation, rounding after each step exactly as packGo does.
poprow:
	PF_SWITCH
	VMOVUPS    (BX), Z28
	PREFETCHT0 63(R13)
	ADDQ       R9, BX
	ADDQ       R9, R13
	TESTQ      R10, R10
	JEQ        pnoscale
	VBROADCASTSS (R10), Z29
	VMULPS     Z29, Z28, Z28
	ADDQ       $4, R10

pnoscale:
	TESTQ R11, R11
	JEQ   pnoshift
	VBROADCASTSS (R11), Z29
	VADDPS Z29, Z28, Z28
	ADDQ   $4, R11

pnoshift:
	TESTQ R12, R12
	JEQ   pnorelu
	// (0 > b') ? 0 : b', which keeps NaN and -0 like Go's x < 0 test (see kernelPackAVX).
	VMAXPS Z28, Z27, Z28

pnorelu:
	VMOVUPS Z28, (SI)
	F6(0, (AX), Z28, Z0, Z1, Z2, Z3, Z4, Z5)
	ADDQ    $24, AX
	ADDQ    $64, SI
	DECQ    CX
	JNE     poprow

pdone:
	CMPB beta+56(FP), $0
	JEQ  pstore
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	VZEROUPPER
	RET

pstore:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	VZEROUPPER
	RET

// func kernelPack4x512(k int, a *float32, ak int, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)
// kernelPack512 for the four row panels of A at a, a+ak, a+2ak and a+3ak (ak in floats) into
// the 24×16 tile of C at c: it packs the B panel once while it feeds 24 FMAs per row.
TEXT ·kernelPack4x512(SB), NOSPLIT, $0-112
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), AX
	MOVQ    ak+16(FP), R15
	MOVQ    src+24(FP), BX
	MOVQ    ldb+32(FP), R9
	MOVQ    dst+40(FP), SI
	MOVQ    c+48(FP), DI
	MOVQ    ldc+56(FP), DX
	MOVQ    scale+72(FP), R10
	MOVQ    shift+80(FP), R11
	MOVBQZX relu+88(FP), R12
	SHLQ    $2, R15
	LEAQ    (AX)(R15*2), R8
	SHLQ    $2, DX
	SHLQ    $2, R9
	MOVQ    DI, R14
	PF6
	PF6
	PF6
	PF6
	ZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	ZERO6(Z12, Z13, Z14, Z15, Z16, Z17)
	ZERO6(Z18, Z19, Z20, Z21, Z22, Z23)
	VPXORD  Z27, Z27, Z27
	MOVQ    dist+104(FP), R14
	MOVQ    R14, R13
	IMULQ   R9, R13
	ADDQ    BX, R13
	TESTQ   CX, CX
	JEQ     qdone
	TESTQ   R10, R10
	JNE     qoprow
	TESTQ   R11, R11
	JNE     qoprow
	TESTQ   R12, R12
	JNE     qoprow
	CMPQ    CX, $4
	JLT     qtail

qloop4:
	PF_SWITCH4
	PSTEP4(0, 0, Z28)
	PSTEP4(24, 64, Z29)
	PSTEP4(48, 128, Z30)
	PSTEP4(72, 192, Z31)
	ADDQ $96, AX
	ADDQ $96, R8
	ADDQ $256, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  qloop4

qtail:
	TESTQ CX, CX
	JEQ   qdone

qloop1:
	PF_SWITCH4
	PSTEP4(0, 0, Z28)
	ADDQ $24, AX
	ADDQ $24, R8
	ADDQ $64, SI
	DECQ CX
	JNE  qloop1
	JMP  qdone

qoprow:
	PF_SWITCH4
	VMOVUPS    (BX), Z28
	PREFETCHT0 63(R13)
	ADDQ       R9, BX
	ADDQ       R9, R13
	TESTQ      R10, R10
	JEQ        qnoscale
	VBROADCASTSS (R10), Z29
	VMULPS     Z29, Z28, Z28
	ADDQ       $4, R10

qnoscale:
	TESTQ R11, R11
	JEQ   qnoshift
	VBROADCASTSS (R11), Z29
	VADDPS Z29, Z28, Z28
	ADDQ   $4, R11

qnoshift:
	TESTQ R12, R12
	JEQ   qnorelu
	VMAXPS Z28, Z27, Z28

qnorelu:
	VMOVUPS Z28, (SI)
	F6(0, (AX), Z28, Z0, Z1, Z2, Z3, Z4, Z5)
	F6(0, (AX)(R15*1), Z28, Z6, Z7, Z8, Z9, Z10, Z11)
	F6(0, (R8), Z28, Z12, Z13, Z14, Z15, Z16, Z17)
	F6(0, (R8)(R15*1), Z28, Z18, Z19, Z20, Z21, Z22, Z23)
	ADDQ    $24, AX
	ADDQ    $24, R8
	ADDQ    $64, SI
	DECQ    CX
	JNE     qoprow

qdone:
	CMPB beta+64(FP), $0
	JEQ  qstore
	AS6(Z0, Z1, Z2, Z3, Z4, Z5)
	AS6(Z6, Z7, Z8, Z9, Z10, Z11)
	AS6(Z12, Z13, Z14, Z15, Z16, Z17)
	AS6(Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

qstore:
	ST6(Z0, Z1, Z2, Z3, Z4, Z5)
	ST6(Z6, Z7, Z8, Z9, Z10, Z11)
	ST6(Z12, Z13, Z14, Z15, Z16, Z17)
	ST6(Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET
