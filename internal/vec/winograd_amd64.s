//go:build amd64 && !purego

#include "textflag.h"

// The transforms work on four tiles at a time, one per lane of an XMM register (Zen1 executes
// 256-bit operations as two 128-bit halves, so wider registers would not be faster).

// IN6 is in6: d0…d5 in X0…X5, result o0…o5 in X10, X8, X9, X6, X7, X11. X13 holds 4, X14
// holds 5; X12 is clobbered.
#define IN6 \
	VMULPS X13, X2, X6  \
	VSUBPS X6, X4, X6   \
	VMULPS X13, X1, X7  \
	VSUBPS X7, X3, X7   \
	VADDPS X7, X6, X8   \
	VSUBPS X7, X6, X9   \
	VSUBPS X2, X4, X10  \
	VSUBPS X1, X3, X11  \
	VADDPS X11, X11, X11 \
	VADDPS X11, X10, X6 \
	VSUBPS X11, X10, X7 \
	VMULPS X13, X0, X10 \
	VADDPS X4, X10, X10 \
	VMULPS X14, X2, X11 \
	VSUBPS X11, X10, X10 \
	VMULPS X13, X1, X11 \
	VADDPS X5, X11, X11 \
	VMULPS X14, X3, X12 \
	VSUBPS X12, X11, X11

// OUT6 is out6: m0…m5 in X0…X5, result o0…o3 in X10, X11, X12, X0. X13 holds 4, X14 holds 8.
#define OUT6 \
	VADDPS X2, X1, X6   \
	VSUBPS X2, X1, X7   \
	VADDPS X4, X3, X8   \
	VSUBPS X4, X3, X9   \
	VADDPS X6, X0, X10  \
	VADDPS X8, X10, X10 \
	VADDPS X9, X9, X11  \
	VADDPS X11, X7, X11 \
	VMULPS X13, X8, X12 \
	VADDPS X12, X6, X12 \
	VMULPS X14, X9, X0  \
	VADDPS X0, X7, X0   \
	VADDPS X5, X0, X0

// TRANSPOSE4 transposes the rows r0…r3 into the columns c0…c3; X1…X4 are clobbered.
#define TRANSPOSE4(r0, r1, r2, r3, c0, c1, c2, c3) \
	VUNPCKLPS r1, r0, X1 \
	VUNPCKHPS r1, r0, X2 \
	VUNPCKLPS r3, r2, X3 \
	VUNPCKHPS r3, r2, X4 \
	VUNPCKLPD X3, X1, c0 \
	VUNPCKHPD X3, X1, c1 \
	VUNPCKLPD X4, X2, c2 \
	VUNPCKHPD X4, X2, c3

// LOADIN loads tile element e (offset table BX, source SI) into register r.
#define LOADIN(e, r) \
	MOVQ    ((e)*8)(BX), AX \
	VMOVUPS (SI)(AX*4), r

// INCOL transforms column j of the input tiles into tmp[i][j] at (6i+j)·16(SP).
#define INCOL(j) \
	LOADIN(j, X0)    \
	LOADIN(6+j, X1)  \
	LOADIN(12+j, X2) \
	LOADIN(18+j, X3) \
	LOADIN(24+j, X4) \
	LOADIN(30+j, X5) \
	IN6              \
	VMOVUPS X10, (j*16)(SP)    \
	VMOVUPS X8, ((6+j)*16)(SP)  \
	VMOVUPS X9, ((12+j)*16)(SP) \
	VMOVUPS X6, ((18+j)*16)(SP) \
	VMOVUPS X7, ((24+j)*16)(SP) \
	VMOVUPS X11, ((30+j)*16)(SP)

// INROW transforms row i of tmp and stores it to dst rows 6i…6i+5, advancing R8 by ds each.
#define INROW(i) \
	VMOVUPS ((6*i)*16)(SP), X0   \
	VMOVUPS ((6*i+1)*16)(SP), X1 \
	VMOVUPS ((6*i+2)*16)(SP), X2 \
	VMOVUPS ((6*i+3)*16)(SP), X3 \
	VMOVUPS ((6*i+4)*16)(SP), X4 \
	VMOVUPS ((6*i+5)*16)(SP), X5 \
	IN6                          \
	VMOVUPS X10, (R8)            \
	ADDQ    DX, R8               \
	VMOVUPS X8, (R8)             \
	ADDQ    DX, R8               \
	VMOVUPS X9, (R8)             \
	ADDQ    DX, R8               \
	VMOVUPS X6, (R8)             \
	ADDQ    DX, R8               \
	VMOVUPS X7, (R8)             \
	ADDQ    DX, R8               \
	VMOVUPS X11, (R8)            \
	ADDQ    DX, R8

// func winogradIn4Asm(dst *float32, ds int, src *float32, off *int, groups int)
TEXT ·winogradIn4Asm(SB), 0, $576-40
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ off+24(FP), BX
	MOVQ groups+32(FP), CX
	MOVL $0x40800000, AX // 4
	MOVL AX, X13
	VBROADCASTSS X13, X13
	MOVL $0x40a00000, AX // 5
	MOVL AX, X14
	VBROADCASTSS X14, X14

inloop:
	INCOL(0)
	INCOL(1)
	INCOL(2)
	INCOL(3)
	INCOL(4)
	INCOL(5)
	MOVQ DI, R8
	INROW(0)
	INROW(1)
	INROW(2)
	INROW(3)
	INROW(4)
	INROW(5)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  inloop
	RET

// OUTCOL transforms column j of the products (R8 at element j, R11 = 6·ms bytes) into
// tmp[a][j] at (6a+j)·16(SP), then advances R8 to element j+1.
#define OUTCOL(j) \
	MOVQ    R8, R12         \
	VMOVUPS (R12), X0       \
	ADDQ    R11, R12        \
	VMOVUPS (R12), X1       \
	ADDQ    R11, R12        \
	VMOVUPS (R12), X2       \
	ADDQ    R11, R12        \
	VMOVUPS (R12), X3       \
	ADDQ    R11, R12        \
	VMOVUPS (R12), X4       \
	ADDQ    R11, R12        \
	VMOVUPS (R12), X5       \
	OUT6                    \
	VMOVUPS X10, (j*16)(SP)      \
	VMOVUPS X11, ((6+j)*16)(SP)  \
	VMOVUPS X12, ((12+j)*16)(SP) \
	VMOVUPS X0, ((18+j)*16)(SP)  \
	ADDQ    R9, R8

// OUTROW transforms row a of tmp into the four tiles' row a, transposed to X5…X8 (tile k's
// four pixels in X(5+k)).
#define OUTROW(a) \
	VMOVUPS ((6*a)*16)(SP), X0   \
	VMOVUPS ((6*a+1)*16)(SP), X1 \
	VMOVUPS ((6*a+2)*16)(SP), X2 \
	VMOVUPS ((6*a+3)*16)(SP), X3 \
	VMOVUPS ((6*a+4)*16)(SP), X4 \
	VMOVUPS ((6*a+5)*16)(SP), X5 \
	OUT6                         \
	TRANSPOSE4(X10, X11, X12, X0, X5, X6, X7, X8)

#define STORE \
	VMOVUPS X5, (R8)   \
	VMOVUPS X6, 16(R8) \
	VMOVUPS X7, 32(R8) \
	VMOVUPS X8, 48(R8) \
	ADDQ    DX, R8

#define STOREACC \
	VADDPS  (R8), X5, X5   \
	VADDPS  16(R8), X6, X6 \
	VADDPS  32(R8), X7, X7 \
	VADDPS  48(R8), X8, X8 \
	STORE

// func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups int, acc bool)
TEXT ·winogradOut4Asm(SB), 0, $384-41
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ ms+24(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R11
	SHLQ $1, R11
	MOVQ groups+32(FP), CX
	MOVBLZX acc+40(FP), R10
	MOVL $0x40800000, AX // 4
	MOVL AX, X13
	VBROADCASTSS X13, X13
	MOVL $0x41000000, AX // 8
	MOVL AX, X14
	VBROADCASTSS X14, X14

outloop:
	MOVQ SI, R8
	OUTCOL(0)
	OUTCOL(1)
	OUTCOL(2)
	OUTCOL(3)
	OUTCOL(4)
	OUTCOL(5)
	MOVQ DI, R8
	TESTQ R10, R10
	JNE  outacc
	OUTROW(0)
	STORE
	OUTROW(1)
	STORE
	OUTROW(2)
	STORE
	OUTROW(3)
	STORE
	JMP  outnext

outacc:
	OUTROW(0)
	STOREACC
	OUTROW(1)
	STOREACC
	OUTROW(2)
	STOREACC
	OUTROW(3)
	STOREACC

outnext:
	ADDQ $16, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  outloop
	RET

// OP applies x·s + t (X14, X15) to r, then max(·, 0) (X13 = 0) when relu is set.
#define OP(r) \
	VMULPS X14, r, r \
	VADDPS X15, r, r

// func splitPhases4Asm(d0, d1, d2, d3, src *float32, n int, s, t float32, relu bool)
// n is a positive multiple of 16.
TEXT ·splitPhases4Asm(SB), NOSPLIT, $0-57
	MOVQ d0+0(FP), R8
	MOVQ d1+8(FP), R9
	MOVQ d2+16(FP), R10
	MOVQ d3+24(FP), R11
	MOVQ src+32(FP), SI
	MOVQ n+40(FP), CX
	VBROADCASTSS s+48(FP), X14
	VBROADCASTSS t+52(FP), X15
	VXORPS X13, X13, X13
	MOVBLZX relu+56(FP), AX
	TESTQ AX, AX
	JEQ  splain

srelu:
	VMOVUPS (SI), X5
	VMOVUPS 16(SI), X6
	VMOVUPS 32(SI), X7
	VMOVUPS 48(SI), X8
	OP(X5)
	OP(X6)
	OP(X7)
	OP(X8)
	VMAXPS X13, X5, X5
	VMAXPS X13, X6, X6
	VMAXPS X13, X7, X7
	VMAXPS X13, X8, X8
	TRANSPOSE4(X5, X6, X7, X8, X9, X10, X11, X12)
	VMOVUPS X9, (R8)
	VMOVUPS X10, (R9)
	VMOVUPS X11, (R10)
	VMOVUPS X12, (R11)
	ADDQ $64, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	SUBQ $16, CX
	JNZ  srelu
	RET

splain:
	VMOVUPS (SI), X5
	VMOVUPS 16(SI), X6
	VMOVUPS 32(SI), X7
	VMOVUPS 48(SI), X8
	OP(X5)
	OP(X6)
	OP(X7)
	OP(X8)
	TRANSPOSE4(X5, X6, X7, X8, X9, X10, X11, X12)
	VMOVUPS X9, (R8)
	VMOVUPS X10, (R9)
	VMOVUPS X11, (R10)
	VMOVUPS X12, (R11)
	ADDQ $64, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	SUBQ $16, CX
	JNZ  splain
	RET
