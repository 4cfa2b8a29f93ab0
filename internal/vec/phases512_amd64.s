//go:build amd64 && !purego

#include "textflag.h"

// winogradPhases16Asm is winogradPhases4Asm (winograd_amd64.s) for rows of 8, 16 or 32 pixels
// with AVX-512 F: the same x·s + t (a rounded multiply, then a rounded add) and max(·, 0) on
// each pixel, so the same bits, but each row is split into its six phases by one to three
// permutes of whole ZMM registers (the zero padding comes from zero-masking) and stored with
// one store per plane, unmasked; nothing is carried from block to block or row to row.
//
// Each call sees a few rows of a plane that is usually not in L1, and nn's next call usually
// reads the rows after them (the next tile rows, or the next image's plane of the channel), so
// each row prefetches the row eight rows on (1 KB on, at most): in densenet10's forward pass
// that cut this function's time by about a fifth (AMD EPYC Zen 4, 2 cores). Prefetches past
// the plane are harmless.

// Permute indices. For w = 32 (two registers, 32 pixels): planes 1 and 2 in the low and high
// halves of the first result, 3 and 4 in the second, 0 and 5 in the third, whose lanes 0 and
// 15 are the padding.
DATA phidx32<>+0(SB)/4, $0
DATA phidx32<>+4(SB)/4, $4
DATA phidx32<>+8(SB)/4, $8
DATA phidx32<>+12(SB)/4, $12
DATA phidx32<>+16(SB)/4, $16
DATA phidx32<>+20(SB)/4, $20
DATA phidx32<>+24(SB)/4, $24
DATA phidx32<>+28(SB)/4, $28
DATA phidx32<>+32(SB)/4, $1
DATA phidx32<>+36(SB)/4, $5
DATA phidx32<>+40(SB)/4, $9
DATA phidx32<>+44(SB)/4, $13
DATA phidx32<>+48(SB)/4, $17
DATA phidx32<>+52(SB)/4, $21
DATA phidx32<>+56(SB)/4, $25
DATA phidx32<>+60(SB)/4, $29
DATA phidx32<>+64(SB)/4, $2
DATA phidx32<>+68(SB)/4, $6
DATA phidx32<>+72(SB)/4, $10
DATA phidx32<>+76(SB)/4, $14
DATA phidx32<>+80(SB)/4, $18
DATA phidx32<>+84(SB)/4, $22
DATA phidx32<>+88(SB)/4, $26
DATA phidx32<>+92(SB)/4, $30
DATA phidx32<>+96(SB)/4, $3
DATA phidx32<>+100(SB)/4, $7
DATA phidx32<>+104(SB)/4, $11
DATA phidx32<>+108(SB)/4, $15
DATA phidx32<>+112(SB)/4, $19
DATA phidx32<>+116(SB)/4, $23
DATA phidx32<>+120(SB)/4, $27
DATA phidx32<>+124(SB)/4, $31
DATA phidx32<>+128(SB)/4, $0
DATA phidx32<>+132(SB)/4, $3
DATA phidx32<>+136(SB)/4, $7
DATA phidx32<>+140(SB)/4, $11
DATA phidx32<>+144(SB)/4, $15
DATA phidx32<>+148(SB)/4, $19
DATA phidx32<>+152(SB)/4, $23
DATA phidx32<>+156(SB)/4, $27
DATA phidx32<>+160(SB)/4, $4
DATA phidx32<>+164(SB)/4, $8
DATA phidx32<>+168(SB)/4, $12
DATA phidx32<>+172(SB)/4, $16
DATA phidx32<>+176(SB)/4, $20
DATA phidx32<>+180(SB)/4, $24
DATA phidx32<>+184(SB)/4, $28
DATA phidx32<>+188(SB)/4, $0
GLOBL phidx32<>(SB), RODATA|NOPTR, $192

// For w = 16: planes 1…4 in the four quarters of the first result, planes 0 and 5 in the low
// two quarters of the second, whose lanes 0 and 7 are the padding.
DATA phidx16<>+0(SB)/4, $0
DATA phidx16<>+4(SB)/4, $4
DATA phidx16<>+8(SB)/4, $8
DATA phidx16<>+12(SB)/4, $12
DATA phidx16<>+16(SB)/4, $1
DATA phidx16<>+20(SB)/4, $5
DATA phidx16<>+24(SB)/4, $9
DATA phidx16<>+28(SB)/4, $13
DATA phidx16<>+32(SB)/4, $2
DATA phidx16<>+36(SB)/4, $6
DATA phidx16<>+40(SB)/4, $10
DATA phidx16<>+44(SB)/4, $14
DATA phidx16<>+48(SB)/4, $3
DATA phidx16<>+52(SB)/4, $7
DATA phidx16<>+56(SB)/4, $11
DATA phidx16<>+60(SB)/4, $15
DATA phidx16<>+64(SB)/4, $0
DATA phidx16<>+68(SB)/4, $3
DATA phidx16<>+72(SB)/4, $7
DATA phidx16<>+76(SB)/4, $11
DATA phidx16<>+80(SB)/4, $4
DATA phidx16<>+84(SB)/4, $8
DATA phidx16<>+88(SB)/4, $12
DATA phidx16<>+92(SB)/4, $0
DATA phidx16<>+96(SB)/8, $0
DATA phidx16<>+104(SB)/8, $0
DATA phidx16<>+112(SB)/8, $0
DATA phidx16<>+120(SB)/8, $0
GLOBL phidx16<>(SB), RODATA|NOPTR, $128

// For w = 8: planes 1, 2, 3, 4, 0, 5 two lanes each; lanes 8 and 11 are the padding.
DATA phidx8<>+0(SB)/4, $0
DATA phidx8<>+4(SB)/4, $4
DATA phidx8<>+8(SB)/4, $1
DATA phidx8<>+12(SB)/4, $5
DATA phidx8<>+16(SB)/4, $2
DATA phidx8<>+20(SB)/4, $6
DATA phidx8<>+24(SB)/4, $3
DATA phidx8<>+28(SB)/4, $7
DATA phidx8<>+32(SB)/4, $0
DATA phidx8<>+36(SB)/4, $3
DATA phidx8<>+40(SB)/4, $4
DATA phidx8<>+44(SB)/4, $0
DATA phidx8<>+48(SB)/8, $0
DATA phidx8<>+56(SB)/8, $0
GLOBL phidx8<>(SB), RODATA|NOPTR, $64

// OPZ applies x·s + t (Z14, Z15) to r, then max(·, 0) (Z13 = 0) when relu is set.
#define OPZ(r) \
	VMULPS Z14, r, r \
	VADDPS Z15, r, r

// NEXTROW moves SI to the next source row (DX bytes on) and BX to plane 0 of the next padded
// row: six planes on (R11), or, after phase 3, back eighteen planes (R13) and one phase row
// (R9) on; AX is the phase. It then loops to label while rows (CX) are left.
#define NEXTROW(label, wrap) \
	ADDQ  DX, SI      \
	INCQ  AX          \
	ADDQ  R11, BX     \
	CMPQ  AX, $4      \
	JNE   wrap        \
	XORQ  AX, AX      \
	ADDQ  R9, BX      \
	SUBQ  R13, BX     \
	SUBQ  R11, BX     \
wrap:                 \
	DECQ  CX          \
	JNZ   label

// func winogradPhasesAsm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)
// A tail call of winogradPhases16Asm or winogradPhases4Asm, which take the same arguments.
TEXT ·winogradPhasesAsm(SB), NOSPLIT, $0-65
	CMPB ·hasWinograd512(SB), $0
	JEQ  avx2
	MOVQ w+40(FP), AX
	CMPQ AX, $32
	JEQ  avx512
	CMPQ AX, $16
	JEQ  avx512
	CMPQ AX, $8
	JEQ  avx512

avx2:
	JMP ·winogradPhases4Asm(SB)

avx512:
	JMP ·winogradPhases16Asm(SB)

// func winogradPhases16Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)
// As winogradPhases4Asm, for w = 8, 16 or 32.
TEXT ·winogradPhases16Asm(SB), NOSPLIT, $0-65
	MOVQ         base+0(FP), BX
	MOVQ         ps+8(FP), R8
	SHLQ         $2, R8
	MOVQ         tw+16(FP), R9
	SHLQ         $2, R9
	MOVQ         phase+24(FP), AX
	MOVQ         src+32(FP), SI
	MOVQ         w+40(FP), DX
	MOVQ         rows+48(FP), CX
	LEAQ         (R8)(R8*2), R11
	SHLQ         $1, R11
	LEAQ         (R11)(R11*2), R13
	VBROADCASTSS s+56(FP), Z14
	VBROADCASTSS t+60(FP), Z15
	VXORPS       X13, X13, X13
	MOVBLZX      relu+64(FP), DI
	CMPQ         DX, $16
	JEQ          w16
	JLT          w8

	// w = 32.
	MOVQ      $128, DX
	VMOVDQU32 phidx32<>+0(SB), Z20
	VMOVDQU32 phidx32<>+64(SB), Z21
	VMOVDQU32 phidx32<>+128(SB), Z22
	MOVL      $0x7ffe, R10
	KMOVW     R10, K1

row32:
	LEAQ    (BX)(R8*2), R12
	ADDQ    R8, R12
	PREFETCHT0 1024(SI)
	PREFETCHT0 1088(SI)
	VMOVUPS    (SI), Z0
	VMOVUPS    64(SI), Z1
	OPZ(Z0)
	OPZ(Z1)
	TESTQ   DI, DI
	JZ      perm32
	VMAXPS  Z13, Z0, Z0
	VMAXPS  Z13, Z1, Z1

perm32:
	VMOVDQA32     Z20, Z2
	VPERMI2PS     Z1, Z0, Z2
	VMOVDQA32     Z21, Z3
	VPERMI2PS     Z1, Z0, Z3
	VMOVDQA32     Z22, Z4
	VPERMI2PS.Z   Z1, Z0, K1, Z4
	VMOVUPS       Y2, (BX)(R8*1)
	VEXTRACTF64X4 $1, Z2, (BX)(R8*2)
	VMOVUPS       Y3, (R12)
	VEXTRACTF64X4 $1, Z3, (R12)(R8*1)
	VMOVUPS       Y4, (BX)
	VEXTRACTF64X4 $1, Z4, (R12)(R8*2)
	NEXTROW(row32, next32)
	VZEROUPPER
	RET

w16:
	MOVQ      $64, DX
	VMOVDQU32 phidx16<>+0(SB), Z20
	VMOVDQU32 phidx16<>+64(SB), Z21
	MOVL      $0x7e, R10
	KMOVW     R10, K1

row16:
	LEAQ    (BX)(R8*2), R12
	ADDQ    R8, R12
	PREFETCHT0 512(SI)
	VMOVUPS    (SI), Z0
	OPZ(Z0)
	TESTQ   DI, DI
	JZ      perm16
	VMAXPS  Z13, Z0, Z0

perm16:
	VPERMPS        Z0, Z20, Z2
	VPERMPS.Z      Z0, Z21, K1, Z3
	VMOVUPS        X2, (BX)(R8*1)
	VEXTRACTF32X4  $1, Z2, (BX)(R8*2)
	VEXTRACTF32X4  $2, Z2, (R12)
	VEXTRACTF32X4  $3, Z2, (R12)(R8*1)
	VMOVUPS        X3, (BX)
	VEXTRACTF32X4  $1, Z3, (R12)(R8*2)
	NEXTROW(row16, next16)
	VZEROUPPER
	RET

w8:
	MOVQ      $32, DX
	VMOVDQU32 phidx8<>+0(SB), Z20
	MOVL      $0x6ff, R10
	KMOVW     R10, K1

row8:
	LEAQ    (BX)(R8*2), R12
	ADDQ    R8, R12
	PREFETCHT0 256(SI)
	VMOVUPS    (SI), Y0
	VMULPS  Y14, Y0, Y0
	VADDPS  Y15, Y0, Y0
	TESTQ   DI, DI
	JZ      perm8
	VMAXPS  Y13, Y0, Y0

perm8:
	VPERMPS.Z     Z0, Z20, K1, Z2
	VEXTRACTF32X4 $1, Z2, X3
	VEXTRACTF32X4 $2, Z2, X4
	VMOVLPS       X2, (BX)(R8*1)
	VMOVHPS       X2, (BX)(R8*2)
	VMOVLPS       X3, (R12)
	VMOVHPS       X3, (R12)(R8*1)
	VMOVLPS       X4, (BX)
	VMOVHPS       X4, (R12)(R8*2)
	NEXTROW(row8, next8)
	VZEROUPPER
	RET
