//go:build amd64 && !purego

#include "textflag.h"

// The transforms work on four tiles at a time, one per lane of an XMM register (Zen1 executes
// 256-bit operations as two 128-bit halves, so wider registers would not be faster). Their
// multiplications are all by powers of two, so a fused multiply-add rounds as the Go version's
// multiplication and addition do.

// IN6 is in6: d0…d5 in X0…X5, result o0…o5 in X0, X8, X9, X6, X7, X5; X10 and X11 are
// clobbered. X13 holds 4 and X15 holds 2.
#define IN6 \
	VSUBPS       X2, X4, X10  \
	VSUBPS       X1, X3, X11  \
	VMOVAPS      X4, X6       \
	VFNMADD231PS X13, X2, X6  \
	VMOVAPS      X3, X7       \
	VFNMADD231PS X13, X1, X7  \
	VADDPS       X7, X6, X8   \
	VSUBPS       X7, X6, X9   \
	VSUBPS       X2, X0, X0   \
	VFMADD213PS  X10, X13, X0 \
	VSUBPS       X3, X5, X5   \
	VFNMADD231PS X13, X11, X5 \
	VMOVAPS      X10, X6      \
	VFMADD231PS  X15, X11, X6 \
	VMOVAPS      X10, X7      \
	VFNMADD231PS X15, X11, X7

// OUT6 is out6: m0…m5 in X0…X5, result o0…o3 in X10, X11, X6, X7; X8 and X9 are clobbered.
// X13 holds 4, X14 holds 8 and X15 holds 2.
#define OUT6 \
	VADDPS      X2, X1, X6   \
	VSUBPS      X2, X1, X7   \
	VADDPS      X4, X3, X8   \
	VSUBPS      X4, X3, X9   \
	VADDPS      X6, X0, X10  \
	VADDPS      X8, X10, X10 \
	VMOVAPS     X7, X11      \
	VFMADD231PS X15, X9, X11 \
	VFMADD231PS X13, X8, X6  \
	VFMADD231PS X14, X9, X7  \
	VADDPS      X5, X7, X7

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

// CONSTS broadcasts 4, 8 and 2 into X13, X14 and X15.
#define CONSTS \
	MOVL         $0x40800000, AX \
	MOVL         AX, X13         \
	VBROADCASTSS X13, X13        \
	MOVL         $0x41000000, AX \
	MOVL         AX, X14         \
	VBROADCASTSS X14, X14        \
	MOVL         $0x40000000, AX \
	MOVL         AX, X15         \
	VBROADCASTSS X15, X15

// INCOL transforms column j of the input tiles, whose element (0, j) R12 points at, into
// tmp[i][j] at (6i+j)·16(SP). Element (i, j) is in plane (i mod 4, j), one phase row further
// down for i ≥ 4: R10 holds the distance between row phases (6 planes) and R11 that between
// phase rows.
#define INCOL(j) \
	LEAQ    (R12)(R10*1), R13          \
	VMOVUPS (R12), X0                  \
	VMOVUPS (R13), X1                  \
	VMOVUPS (R12)(R10*2), X2           \
	VMOVUPS (R13)(R10*2), X3           \
	VMOVUPS (R12)(R11*1), X4           \
	VMOVUPS (R13)(R11*1), X5           \
	IN6                                \
	VMOVUPS X0, (j*16)(SP)             \
	VMOVUPS X8, ((6+j)*16)(SP)         \
	VMOVUPS X9, ((12+j)*16)(SP)        \
	VMOVUPS X6, ((18+j)*16)(SP)        \
	VMOVUPS X7, ((24+j)*16)(SP)        \
	VMOVUPS X5, ((30+j)*16)(SP)

// INROW transforms row i of tmp and stores it to dst rows 6i…6i+5 from R8 (DX = ds bytes,
// BX = 3·ds bytes), leaving R8 at row 6i+6.
#define INROW(i) \
	VMOVUPS ((6*i)*16)(SP), X0   \
	VMOVUPS ((6*i+1)*16)(SP), X1 \
	VMOVUPS ((6*i+2)*16)(SP), X2 \
	VMOVUPS ((6*i+3)*16)(SP), X3 \
	VMOVUPS ((6*i+4)*16)(SP), X4 \
	VMOVUPS ((6*i+5)*16)(SP), X5 \
	IN6                          \
	VMOVUPS X0, (R8)             \
	VMOVUPS X8, (R8)(DX*1)       \
	VMOVUPS X9, (R8)(DX*2)       \
	VMOVUPS X6, (R8)(BX*1)       \
	VMOVUPS X7, (R8)(DX*4)       \
	ADDQ    BX, R8               \
	VMOVUPS X5, (R8)(DX*2)       \
	ADDQ    BX, R8

// func winogradIn4Asm(dst *float32, ds int, src *float32, ps, pw, groups int)
TEXT ·winogradIn4Asm(SB), 0, $576-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), BX
	MOVQ src+16(FP), SI
	MOVQ ps+24(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	SHLQ $1, R10
	MOVQ pw+32(FP), R11
	SHLQ $2, R11
	MOVQ groups+40(FP), CX
	CONSTS

inloop:
	MOVQ SI, R12
	INCOL(0)
	LEAQ (SI)(R9*1), R12
	INCOL(1)
	LEAQ (SI)(R9*2), R12
	INCOL(2)
	ADDQ R9, R12
	INCOL(3)
	LEAQ (SI)(R9*4), R12
	INCOL(4)
	ADDQ R9, R12
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

// OUTCOL transforms column j of the products (R8 at element j, R11 = 6·ms bytes, R12 =
// 18·ms bytes) into tmp[a][j] at (6a+j)·16(SP), then advances R8 to element j+1 (R9 = ms
// bytes).
#define OUTCOL(j) \
	LEAQ    (R8)(R12*1), BX      \
	VMOVUPS (R8), X0             \
	VMOVUPS (R8)(R11*1), X1      \
	VMOVUPS (R8)(R11*2), X2      \
	VMOVUPS (BX), X3             \
	VMOVUPS (R8)(R11*4), X4      \
	VMOVUPS (BX)(R11*2), X5      \
	OUT6                         \
	VMOVUPS X10, (j*16)(SP)      \
	VMOVUPS X11, ((6+j)*16)(SP)  \
	VMOVUPS X6, ((12+j)*16)(SP)  \
	VMOVUPS X7, ((18+j)*16)(SP)  \
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
	TRANSPOSE4(X10, X11, X6, X7, X5, X6, X7, X8)

// STORE stores the row of tiles 0 and 1 at R8, of tiles 2 and 3 at R8 + R10 bytes.
#define STORE \
	VMOVUPS X5, (R8)          \
	VMOVUPS X6, 16(R8)        \
	VMOVUPS X7, (R8)(R10*1)   \
	VMOVUPS X8, 16(R8)(R10*1) \
	ADDQ    DX, R8

#define STOREACC \
	VADDPS  (R8), X5, X5          \
	VADDPS  16(R8), X6, X6        \
	VADDPS  (R8)(R10*1), X7, X7   \
	VADDPS  16(R8)(R10*1), X8, X8 \
	STORE

// func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups, units, unit, tile2 int, acc bool)
TEXT ·winogradOut4Asm(SB), 0, $384-65
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ ms+24(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R11
	SHLQ $1, R11
	LEAQ (R11)(R11*2), R12
	MOVQ unit+48(FP), R13
	SHLQ $2, R13
	MOVQ tile2+56(FP), R10
	SHLQ $2, R10
	CONSTS

outunit:
	MOVQ groups+32(FP), CX
	MOVQ DI, AX

outloop:
	MOVQ SI, R8
	OUTCOL(0)
	OUTCOL(1)
	OUTCOL(2)
	OUTCOL(3)
	OUTCOL(4)
	OUTCOL(5)
	MOVQ DI, R8
	CMPB acc+64(FP), $0
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
	LEAQ (AX)(R13*1), DI
	DECQ units+40(FP)
	JNZ  outunit
	RET

// OP applies x·s + t (X14, X15) to r, then max(·, 0) (X13 = 0) when relu is set.
#define OP(r) \
	VMULPS X14, r, r \
	VADDPS X15, r, r

// SPLIT16 loads 16 pixels from SI, applies x·s + t (X14, X15), then max(·, 0) (zeros at
// 16(SP)) when relu is set, and transposes them into their four phases: pixel 4v+k of the block in lane v
// of X(9+k).
#define SPLIT16(relu) \
	VMOVUPS (SI), X5    \
	VMOVUPS 16(SI), X6  \
	VMOVUPS 32(SI), X7  \
	VMOVUPS 48(SI), X8  \
	OP(X5)              \
	OP(X6)              \
	OP(X7)              \
	OP(X8)              \
	relu                \
	TRANSPOSE4(X5, X6, X7, X8, X9, X10, X11, X12)

#define RELU4 \
	VMAXPS 16(SP), X5, X5 \
	VMAXPS 16(SP), X6, X6 \
	VMAXPS 16(SP), X7, X7 \
	VMAXPS 16(SP), X8, X8

#define NORELU

// STORE6 stores one block's phases: padded column 4v+j of the block goes to plane j at v. The
// planes are BX, BX+ps, BX+2·ps, R12 = BX+3·ps, R12+ps and R12+2·ps (R8 = ps bytes). Planes 0
// and 5 are shifted by one pixel: they take the last pixel of the previous block (from its
// phase 3, kept in X0) and the first of the next, so plane 5's block is stored one block late
// (from phase 0, kept in X13), at R10.
#define STORE6 \
	VMOVUPS  X9, (BX)(R8*1)   \
	VMOVUPS  X10, (BX)(R8*2)  \
	VMOVUPS  X11, (R12)       \
	VMOVUPS  X12, (R12)(R8*1) \
	VPALIGNR $12, X0, X12, X5 \
	VMOVUPS  X5, (BX)         \
	VPALIGNR $4, X13, X9, X5  \
	VMOVUPS  X5, (R10)        \
	LEAQ     (R12)(R8*2), R10 \
	VMOVAPS  X12, X0          \
	VMOVAPS  X9, X13          \
	ADDQ     $16, BX          \
	ADDQ     $16, R12         \
	ADDQ     $64, SI

// func winogradPhases4Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)
// Row r of src (width w, 8 or a positive multiple of 16) is padded row Y = Y0 + r; base is where
// plane 0 of padded row Y0 starts and phase is Y0 mod 4.
TEXT ·winogradPhases4Asm(SB), NOSPLIT, $32-65
	MOVQ base+0(FP), BX
	MOVQ ps+8(FP), R8
	SHLQ $2, R8
	MOVQ tw+16(FP), R9
	SHLQ $2, R9
	MOVQ phase+24(FP), AX
	MOVQ src+32(FP), SI
	MOVQ w+40(FP), DX
	MOVQ rows+48(FP), CX
	LEAQ (R8)(R8*2), R11
	SHLQ $1, R11
	LEAQ (R11)(R11*2), R13
	VBROADCASTSS s+56(FP), X14
	VBROADCASTSS t+60(FP), X15
	VXORPS  X5, X5, X5
	VMOVUPS X5, 16(SP)

prow:
	LEAQ   (BX)(R8*2), R12
	ADDQ   R8, R12
	CMPQ   DX, $8
	JEQ    p8

	// The block before the first is padding; plane 5's first store goes to a dummy slot.
	VXORPS X0, X0, X0
	LEAQ   0(SP), R10
	MOVQ   DX, DI
	CMPB   relu+64(FP), $0
	JEQ    pplain

prelu:
	SPLIT16(RELU4)
	STORE6
	SUBQ $16, DI
	JNZ  prelu
	JMP  pend

pplain:
	SPLIT16(NORELU)
	STORE6
	SUBQ $16, DI
	JNZ  pplain

pend:
	// Plane 5's last block ends with the right padding.
	VXORPS   X5, X5, X5
	VPALIGNR $4, X13, X5, X5
	VMOVUPS  X5, (R10)
	SUBQ     DX, BX

pnext:
	INCQ     AX
	CMPQ     AX, $4
	JEQ      pwrap
	ADDQ     R11, BX
	JMP      pcont

pwrap:
	// Plane 0 of the next phase row: back 18 planes, one row on.
	XORQ AX, AX
	ADDQ R9, BX
	SUBQ R13, BX

pcont:
	DECQ CX
	JNZ  prow
	RET

p8:
	// A row of 8 pixels: each plane gets two.
	VMOVUPS (SI), X5
	VMOVUPS 16(SI), X6
	OP(X5)
	OP(X6)
	CMPB    relu+64(FP), $0
	JEQ     p8plain
	VMAXPS  16(SP), X5, X5
	VMAXPS  16(SP), X6, X6

p8plain:
	VUNPCKLPS X6, X5, X9
	VUNPCKHPS X6, X5, X10
	VMOVLPS   X9, (BX)(R8*1)
	VMOVHPS   X9, (BX)(R8*2)
	VMOVLPS   X10, (R12)
	VMOVHPS   X10, (R12)(R8*1)
	VINSERTPS $0xdd, X5, X5, X11
	VMOVLPS   X11, (BX)
	VINSERTPS $0x0e, X6, X6, X12
	VMOVLPS   X12, (R12)(R8*2)
	ADDQ      $32, SI
	JMP       pnext
