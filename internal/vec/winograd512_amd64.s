//go:build amd64 && !purego

#include "textflag.h"

// winogradIn16Asm is winogradIn4Asm (winograd_amd64.s) on sixteen tiles at a time, one per lane
// of a ZMM register: the same operations in the same order on each lane, so the same bits.
// Zen 4 runs 512-bit operations as two 256-bit halves; the gain is a quarter of the
// instructions per tile.

// IN6Z is IN6 on ZMM registers: d0…d5 in Z0…Z5, result o0…o5 in Z0, Z8, Z9, Z6, Z7, Z5; Z10
// and Z11 are clobbered. Z13 holds 4 and Z15 holds 2.
#define IN6Z \
	VSUBPS       Z2, Z4, Z10  \
	VSUBPS       Z1, Z3, Z11  \
	VMOVAPS      Z4, Z6       \
	VFNMADD231PS Z13, Z2, Z6  \
	VMOVAPS      Z3, Z7       \
	VFNMADD231PS Z13, Z1, Z7  \
	VADDPS       Z7, Z6, Z8   \
	VSUBPS       Z7, Z6, Z9   \
	VSUBPS       Z2, Z0, Z0   \
	VFMADD213PS  Z10, Z13, Z0 \
	VSUBPS       Z3, Z5, Z5   \
	VFNMADD231PS Z13, Z11, Z5 \
	VMOVAPS      Z10, Z6      \
	VFMADD231PS  Z15, Z11, Z6 \
	VMOVAPS      Z10, Z7      \
	VFNMADD231PS Z15, Z11, Z7

// INCOLZ is INCOL with tmp[i][j] at (6i+j)·64(SP).
#define INCOLZ(j) \
	LEAQ    (R12)(R10*1), R13   \
	VMOVUPS (R12), Z0           \
	VMOVUPS (R13), Z1           \
	VMOVUPS (R12)(R10*2), Z2    \
	VMOVUPS (R13)(R10*2), Z3    \
	VMOVUPS (R12)(R11*1), Z4    \
	VMOVUPS (R13)(R11*1), Z5    \
	IN6Z                        \
	VMOVUPS Z0, (j*64)(SP)      \
	VMOVUPS Z8, ((6+j)*64)(SP)  \
	VMOVUPS Z9, ((12+j)*64)(SP) \
	VMOVUPS Z6, ((18+j)*64)(SP) \
	VMOVUPS Z7, ((24+j)*64)(SP) \
	VMOVUPS Z5, ((30+j)*64)(SP)

// INROWZ is INROW from the ZMM tmp.
#define INROWZ(i) \
	VMOVUPS ((6*i)*64)(SP), Z0   \
	VMOVUPS ((6*i+1)*64)(SP), Z1 \
	VMOVUPS ((6*i+2)*64)(SP), Z2 \
	VMOVUPS ((6*i+3)*64)(SP), Z3 \
	VMOVUPS ((6*i+4)*64)(SP), Z4 \
	VMOVUPS ((6*i+5)*64)(SP), Z5 \
	IN6Z                         \
	VMOVUPS Z0, (R8)             \
	VMOVUPS Z8, (R8)(DX*1)       \
	VMOVUPS Z9, (R8)(DX*2)       \
	VMOVUPS Z6, (R8)(BX*1)       \
	VMOVUPS Z7, (R8)(DX*4)       \
	ADDQ    BX, R8               \
	VMOVUPS Z5, (R8)(DX*2)       \
	ADDQ    BX, R8

// winogradOut16Asm is winogradOut4Asm on sixteen tiles at a time: four groups of four tiles,
// group L in 128-bit lane L of each ZMM register, each group with its own destination.

// OUT6Z is OUT6 on ZMM registers: m0…m5 in Z0…Z5, result o0…o3 in Z10, Z11, Z6, Z7; Z8 and
// Z9 are clobbered. Z13 holds 4, Z14 holds 8 and Z15 holds 2.
#define OUT6Z \
	VADDPS      Z2, Z1, Z6   \
	VSUBPS      Z2, Z1, Z7   \
	VADDPS      Z4, Z3, Z8   \
	VSUBPS      Z4, Z3, Z9   \
	VADDPS      Z6, Z0, Z10  \
	VADDPS      Z8, Z10, Z10 \
	VMOVAPS     Z7, Z11      \
	VFMADD231PS Z15, Z9, Z11 \
	VFMADD231PS Z13, Z8, Z6  \
	VFMADD231PS Z14, Z9, Z7  \
	VADDPS      Z5, Z7, Z7

// OUTCOLZ is OUTCOL with tmp[a][j] at (6a+j)·64(SP).
#define OUTCOLZ(j) \
	LEAQ    (R8)(R12*1), BX     \
	VMOVUPS (R8), Z0            \
	VMOVUPS (R8)(R11*1), Z1     \
	VMOVUPS (R8)(R11*2), Z2     \
	VMOVUPS (BX), Z3            \
	VMOVUPS (R8)(R11*4), Z4     \
	VMOVUPS (BX)(R11*2), Z5     \
	OUT6Z                       \
	VMOVUPS Z10, (j*64)(SP)     \
	VMOVUPS Z11, ((6+j)*64)(SP) \
	VMOVUPS Z6, ((12+j)*64)(SP) \
	VMOVUPS Z7, ((18+j)*64)(SP) \
	ADDQ    R9, R8

// OUTROWZ transforms row a of tmp and leaves, for each group L, its four tiles' row a in
// Z(L): tile k's four pixels in 128-bit lane k. The 4×4 transposes within each lane (as
// TRANSPOSE4 does) give tile k of every group in Z(5+k); the 4×4 transpose of lanes then
// gathers each group's tiles.
#define OUTROWZ(a) \
	VMOVUPS    ((6*a)*64)(SP), Z0   \
	VMOVUPS    ((6*a+1)*64)(SP), Z1 \
	VMOVUPS    ((6*a+2)*64)(SP), Z2 \
	VMOVUPS    ((6*a+3)*64)(SP), Z3 \
	VMOVUPS    ((6*a+4)*64)(SP), Z4 \
	VMOVUPS    ((6*a+5)*64)(SP), Z5 \
	OUT6Z                           \
	VUNPCKLPS  Z11, Z10, Z1         \
	VUNPCKHPS  Z11, Z10, Z2         \
	VUNPCKLPS  Z7, Z6, Z3           \
	VUNPCKHPS  Z7, Z6, Z4           \
	VUNPCKLPD  Z3, Z1, Z5           \
	VUNPCKHPD  Z3, Z1, Z6           \
	VUNPCKLPD  Z4, Z2, Z7           \
	VUNPCKHPD  Z4, Z2, Z8           \
	VSHUFF32X4 $0x44, Z6, Z5, Z16   \
	VSHUFF32X4 $0x44, Z8, Z7, Z17   \
	VSHUFF32X4 $0xee, Z6, Z5, Z18   \
	VSHUFF32X4 $0xee, Z8, Z7, Z19   \
	VSHUFF32X4 $0x88, Z17, Z16, Z0  \
	VSHUFF32X4 $0xdd, Z17, Z16, Z1  \
	VSHUFF32X4 $0x88, Z19, Z18, Z2  \
	VSHUFF32X4 $0xdd, Z19, Z18, Z3

// STOREZ stores group row z (tiles 0 and 1 in its low half, 2 and 3 in its high half) at p and
// p + tile2 (R10 bytes), then moves p a row down; STOREZACC adds it to what is there first,
// as STOREACC does.
#define STOREZ(z, y, p) \
	VEXTRACTF64X4 $1, z, Y4 \
	VMOVUPS       y, (p)    \
	VMOVUPS       Y4, (p)(R10*1) \
	ADDQ          DX, p

#define STOREZACC(z, y, p) \
	VEXTRACTF64X4 $1, z, Y4      \
	VADDPS        (p), y, y      \
	VADDPS        (p)(R10*1), Y4, Y4 \
	VMOVUPS       y, (p)         \
	VMOVUPS       Y4, (p)(R10*1) \
	ADDQ          DX, p

#define STORE4Z \
	STOREZ(Z0, Y0, AX) \
	STOREZ(Z1, Y1, CX) \
	STOREZ(Z2, Y2, DI) \
	STOREZ(Z3, Y3, R13)

#define STORE4ZACC \
	STOREZACC(Z0, Y0, AX) \
	STOREZACC(Z1, Y1, CX) \
	STOREZACC(Z2, Y2, DI) \
	STOREZACC(Z3, Y3, R13)

// func winogradIn16Asm(dst *float32, ds int, src *float32, ps, pw, blocks int)
// blocks·16 tiles, as winogradIn4Asm's blocks·4 groups.
TEXT ·winogradIn16Asm(SB), 0, $2304-48
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
	MOVQ blocks+40(FP), CX
	MOVL $0x40800000, AX
	MOVL AX, X13
	VBROADCASTSS X13, Z13
	MOVL $0x40000000, AX
	MOVL AX, X15
	VBROADCASTSS X15, Z15

zinloop:
	MOVQ SI, R12
	INCOLZ(0)
	LEAQ (SI)(R9*1), R12
	INCOLZ(1)
	LEAQ (SI)(R9*2), R12
	INCOLZ(2)
	ADDQ R9, R12
	INCOLZ(3)
	LEAQ (SI)(R9*4), R12
	INCOLZ(4)
	ADDQ R9, R12
	INCOLZ(5)
	MOVQ DI, R8
	INROWZ(0)
	INROWZ(1)
	INROWZ(2)
	INROWZ(3)
	INROWZ(4)
	INROWZ(5)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  zinloop
	VZEROUPPER
	RET

// func winogradOut16Asm(d0, d1, d2, d3 *float32, ld int, src *float32, ms, tile2 int, acc bool)
// Sixteen tiles from src (ms apart per element ξ): group L (tiles 4L…4L+3) goes to dL as
// winogradOut4Asm writes one group.
TEXT ·winogradOut16Asm(SB), 0, $1536-65
	MOVQ d0+0(FP), AX
	MOVQ d1+8(FP), CX
	MOVQ d2+16(FP), DI
	MOVQ d3+24(FP), R13
	MOVQ ld+32(FP), DX
	SHLQ $2, DX
	MOVQ src+40(FP), R8
	MOVQ ms+48(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R11
	SHLQ $1, R11
	LEAQ (R11)(R11*2), R12
	MOVQ tile2+56(FP), R10
	SHLQ $2, R10
	MOVL $0x40800000, BX
	MOVL BX, X13
	VBROADCASTSS X13, Z13
	MOVL $0x41000000, BX
	MOVL BX, X14
	VBROADCASTSS X14, Z14
	MOVL $0x40000000, BX
	MOVL BX, X15
	VBROADCASTSS X15, Z15
	OUTCOLZ(0)
	OUTCOLZ(1)
	OUTCOLZ(2)
	OUTCOLZ(3)
	OUTCOLZ(4)
	OUTCOLZ(5)
	CMPB acc+64(FP), $0
	JNE  zoutacc
	OUTROWZ(0)
	STORE4Z
	OUTROWZ(1)
	STORE4Z
	OUTROWZ(2)
	STORE4Z
	OUTROWZ(3)
	STORE4Z
	VZEROUPPER
	RET

zoutacc:
	OUTROWZ(0)
	STORE4ZACC
	OUTROWZ(1)
	STORE4ZACC
	OUTROWZ(2)
	STORE4ZACC
	OUTROWZ(3)
	STORE4ZACC
	VZEROUPPER
	RET
