//go:build amd64 && !purego

#include "textflag.h"

// The F(2×2, 3×3) transforms (winograd2.go) in AVX2, eight tiles or columns per YMM register.
// Each loop body appears twice: with plain loads and stores for whole blocks of eight, and with
// VMASKMOVPS for the last, partial block, so that nothing outside the slices is touched. Only
// VADDPS and VSUBPS compute, in the Go twins' order, so the bits are theirs. Written by hand
// like the F(4×4) transforms beside them: each exists in one AVX2 variant, so internal/gemm's
// avo generator, whose gain is one description for two register files, would only add a step.

// Masks for the last, partial block of eight: 8 − r lanes on from w2Tail<>+4r.
DATA w2Tail<>+0(SB)/4, $0xffffffff
DATA w2Tail<>+4(SB)/4, $0xffffffff
DATA w2Tail<>+8(SB)/4, $0xffffffff
DATA w2Tail<>+12(SB)/4, $0xffffffff
DATA w2Tail<>+16(SB)/4, $0xffffffff
DATA w2Tail<>+20(SB)/4, $0xffffffff
DATA w2Tail<>+24(SB)/4, $0xffffffff
DATA w2Tail<>+28(SB)/4, $0xffffffff
DATA w2Tail<>+32(SB)/4, $0
DATA w2Tail<>+36(SB)/4, $0
DATA w2Tail<>+40(SB)/4, $0
DATA w2Tail<>+44(SB)/4, $0
DATA w2Tail<>+48(SB)/4, $0
DATA w2Tail<>+52(SB)/4, $0
DATA w2Tail<>+56(SB)/4, $0
DATA w2Tail<>+60(SB)/4, $0
GLOBL w2Tail<>(SB), RODATA|NOPTR, $64

// func winograd2ColsAVX(dst, r0, r1, r2, r3 *float32, n int)
// dst[i] = r0−r2, dst[n+i] = r1+r2, dst[2n+i] = r2−r1, dst[3n+i] = r1−r3 for i < n (n ≥ 1), as
// winograd2ColsGo; the last block of fewer than eight is masked.
TEXT ·winograd2ColsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), R8
	MOVQ r1+16(FP), R9
	MOVQ r2+24(FP), R10
	MOVQ r3+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ CX, BX
	SHLQ $2, BX // n in bytes: the stride between the four outputs
	LEAQ (DI)(BX*2), R12 // dst + 2n

cfull:
	CMPQ CX, $8
	JLT  ctail
	VMOVUPS      (R8), Y0
	VMOVUPS      (R9), Y1
	VMOVUPS      (R10), Y2
	VMOVUPS      (R11), Y3
	VSUBPS       Y2, Y0, Y4 // r0 − r2
	VADDPS       Y2, Y1, Y5 // r1 + r2
	VSUBPS       Y1, Y2, Y6 // r2 − r1
	VSUBPS       Y3, Y1, Y7 // r1 − r3
	VMOVUPS      Y4, (DI)
	VMOVUPS      Y5, (DI)(BX*1)
	VMOVUPS      Y6, (R12)
	VMOVUPS      Y7, (R12)(BX*1)
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, DI
	ADDQ $32, R12
	SUBQ $8, CX
	JMP  cfull

ctail:
	TESTQ CX, CX
	JEQ   cdone
	LEAQ  w2Tail<>+32(SB), AX
	SHLQ  $2, CX
	SUBQ  CX, AX
	VMOVDQU (AX), Y15
	VMASKMOVPS   (R8), Y15, Y0
	VMASKMOVPS   (R9), Y15, Y1
	VMASKMOVPS   (R10), Y15, Y2
	VMASKMOVPS   (R11), Y15, Y3
	VSUBPS       Y2, Y0, Y4 // r0 − r2
	VADDPS       Y2, Y1, Y5 // r1 + r2
	VSUBPS       Y1, Y2, Y6 // r2 − r1
	VSUBPS       Y3, Y1, Y7 // r1 − r3
	VMASKMOVPS   Y4, Y15, (DI)
	VMASKMOVPS   Y5, Y15, (DI)(BX*1)
	VMASKMOVPS   Y6, Y15, (R12)
	VMASKMOVPS   Y7, Y15, (R12)(BX*1)

cdone:
	VZEROUPPER
	RET

// func winograd2RowsAVX(dst *float32, ds int, src *float32, k, n int)
// winograd2RowsGo for tiles 0…n−1 of src (already at the first tile), eight at a time, the last
// partial block masked: for row a, E = src[2ak:], O = src[2ak+k:], and element 4a+b of tile q
// goes to dst[(4a+b)·ds + q]: E[q]−E[q+1], O[q]+E[q+1], E[q+1]−O[q], O[q]−O[q+1].
TEXT ·winograd2RowsAVX(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), R8
	SHLQ $2, R8 // ds in bytes
	MOVQ src+16(FP), SI
	MOVQ k+24(FP), R9
	SHLQ $2, R9 // k in bytes
	MOVQ n+32(FP), CX

rfull:
	CMPQ CX, $8
	JLT  rtail
	MOVQ SI, R10 // E of row a
	MOVQ DI, R11 // element 4a
	MOVQ $4, DX
rrow:
	LEAQ (R10)(R9*1), R12 // O
	VMOVUPS      (R10), Y0 // E[q]
	VMOVUPS      4(R10), Y1 // E[q+1]
	VMOVUPS      (R12), Y2 // O[q]
	VMOVUPS      4(R12), Y3 // O[q+1]
	VSUBPS       Y1, Y0, Y4
	VADDPS       Y1, Y2, Y5
	VSUBPS       Y2, Y1, Y6
	VSUBPS       Y3, Y2, Y7
	LEAQ         (R11)(R8*2), R13
	VMOVUPS      Y4, (R11)
	VMOVUPS      Y5, (R11)(R8*1)
	VMOVUPS      Y6, (R13)
	VMOVUPS      Y7, (R13)(R8*1)
	LEAQ (R10)(R9*2), R10
	LEAQ (R13)(R8*2), R11
	DECQ DX
	JNZ  rrow
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  rfull

rtail:
	TESTQ CX, CX
	JEQ   rdone
	LEAQ  w2Tail<>+32(SB), AX
	SHLQ  $2, CX
	SUBQ  CX, AX
	VMOVDQU (AX), Y15
	MOVQ SI, R10 // E of row a
	MOVQ DI, R11 // element 4a
	MOVQ $4, DX
rrowt:
	LEAQ (R10)(R9*1), R12 // O
	VMASKMOVPS   (R10), Y15, Y0 // E[q]
	VMASKMOVPS   4(R10), Y15, Y1 // E[q+1]
	VMASKMOVPS   (R12), Y15, Y2 // O[q]
	VMASKMOVPS   4(R12), Y15, Y3 // O[q+1]
	VSUBPS       Y1, Y0, Y4
	VADDPS       Y1, Y2, Y5
	VSUBPS       Y2, Y1, Y6
	VSUBPS       Y3, Y2, Y7
	LEAQ         (R11)(R8*2), R13
	VMASKMOVPS   Y4, Y15, (R11)
	VMASKMOVPS   Y5, Y15, (R11)(R8*1)
	VMASKMOVPS   Y6, Y15, (R13)
	VMASKMOVPS   Y7, Y15, (R13)(R8*1)
	LEAQ (R10)(R9*2), R10
	LEAQ (R13)(R8*2), R11
	DECQ DX
	JNZ  rrowt

rdone:
	VZEROUPPER
	RET

// func winograd2OutAVX(dst *float32, w, rows int, src *float32, ms, n, px int, acc bool)
// winograd2OutGo for tiles 0…n−1 (dst at the first tile's first pixel, src at its products),
// eight tiles at a time: the two outputs of each row of Aᵀ·M·A are interleaved (VUNPCKLPS,
// VUNPCKHPS, VPERM2F128) into sixteen pixels; the first px (≤ 2n) pixels of each row are
// written, the last partial block masked.
TEXT ·winograd2OutAVX(SB), NOSPLIT, $0-57
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), R8
	SHLQ $2, R8 // w in bytes
	MOVQ src+24(FP), SI
	MOVQ ms+32(FP), R9
	SHLQ $2, R9 // ms in bytes
	MOVQ n+40(FP), CX
	MOVQ px+48(FP), BX
	LEAQ (R9)(R9*2), R10 // 3·ms

ofull:
	CMPQ CX, $8
	JLT  otail
	CMPQ BX, $16
	JLT  otail
	MOVQ SI, R11
	LEAQ (SI)(R9*4), R12
	LEAQ (R12)(R9*4), R13
	LEAQ (R13)(R9*4), R14
	VMOVUPS      (R11), Y0 // m[0]
	VMOVUPS      (R12), Y1 // m[4]
	VMOVUPS      (R13), Y2 // m[8]
	VMOVUPS      (R14), Y3 // m[12]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y4 // o[0][0]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y8 // o[1][0]
	VMOVUPS      (R11)(R9*1), Y0 // m[1]
	VMOVUPS      (R12)(R9*1), Y1 // m[5]
	VMOVUPS      (R13)(R9*1), Y2 // m[9]
	VMOVUPS      (R14)(R9*1), Y3 // m[13]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y5 // o[0][1]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y9 // o[1][1]
	VMOVUPS      (R11)(R9*2), Y0 // m[2]
	VMOVUPS      (R12)(R9*2), Y1 // m[6]
	VMOVUPS      (R13)(R9*2), Y2 // m[10]
	VMOVUPS      (R14)(R9*2), Y3 // m[14]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y6 // o[0][2]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y10 // o[1][2]
	VMOVUPS      (R11)(R10*1), Y0 // m[3]
	VMOVUPS      (R12)(R10*1), Y1 // m[7]
	VMOVUPS      (R13)(R10*1), Y2 // m[11]
	VMOVUPS      (R14)(R10*1), Y3 // m[15]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y7 // o[0][3]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y11 // o[1][3]
	VADDPS Y5, Y4, Y0
	VADDPS Y6, Y0, Y0 // y0
	VSUBPS Y6, Y5, Y1
	VSUBPS Y7, Y1, Y1 // y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y0 // pixels 0…7
	VPERM2F128 $0x31, Y3, Y2, Y1 // pixels 8…15
	CMPB acc+56(FP), $0
	JEQ  ofst0
	VADDPS (DI), Y0, Y0
	VADDPS 32(DI), Y1, Y1
ofst0:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	CMPQ rows+16(FP), $2
	JLT  ofnext
	ADDQ R8, DI // row 1
	VADDPS Y9, Y8, Y0
	VADDPS Y10, Y0, Y0 // y0
	VSUBPS Y10, Y9, Y1
	VSUBPS Y11, Y1, Y1 // y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y0 // pixels 0…7
	VPERM2F128 $0x31, Y3, Y2, Y1 // pixels 8…15
	CMPB acc+56(FP), $0
	JEQ  ofst1
	VADDPS (DI), Y0, Y0
	VADDPS 32(DI), Y1, Y1
ofst1:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	SUBQ R8, DI
ofnext:
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $8, CX
	SUBQ $16, BX
	JMP  ofull

otail:
	TESTQ CX, CX
	JEQ   odone
	CMPQ  CX, $8
	JLE   omask
	MOVQ  $8, CX // a last full block whose pixels are cut: px < 16
omask:
	LEAQ  w2Tail<>+32(SB), AX
	SHLQ  $2, CX
	SUBQ  CX, AX
	VMOVDQU (AX), Y15
	MOVQ  BX, CX
	CMPQ  CX, $8
	JLE   olo
	MOVQ  $8, CX
olo:
	LEAQ  w2Tail<>+32(SB), AX
	SHLQ  $2, CX
	SUBQ  CX, AX
	VMOVDQU (AX), Y12
	MOVQ  BX, CX
	SUBQ  $8, CX
	JGE   ohi
	XORQ  CX, CX
ohi:
	LEAQ  w2Tail<>+32(SB), AX
	SHLQ  $2, CX
	SUBQ  CX, AX
	VMOVDQU (AX), Y13
	MOVQ SI, R11
	LEAQ (SI)(R9*4), R12
	LEAQ (R12)(R9*4), R13
	LEAQ (R13)(R9*4), R14
	VMASKMOVPS   (R11), Y15, Y0 // m[0]
	VMASKMOVPS   (R12), Y15, Y1 // m[4]
	VMASKMOVPS   (R13), Y15, Y2 // m[8]
	VMASKMOVPS   (R14), Y15, Y3 // m[12]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y4 // o[0][0]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y8 // o[1][0]
	VMASKMOVPS   (R11)(R9*1), Y15, Y0 // m[1]
	VMASKMOVPS   (R12)(R9*1), Y15, Y1 // m[5]
	VMASKMOVPS   (R13)(R9*1), Y15, Y2 // m[9]
	VMASKMOVPS   (R14)(R9*1), Y15, Y3 // m[13]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y5 // o[0][1]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y9 // o[1][1]
	VMASKMOVPS   (R11)(R9*2), Y15, Y0 // m[2]
	VMASKMOVPS   (R12)(R9*2), Y15, Y1 // m[6]
	VMASKMOVPS   (R13)(R9*2), Y15, Y2 // m[10]
	VMASKMOVPS   (R14)(R9*2), Y15, Y3 // m[14]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y6 // o[0][2]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y10 // o[1][2]
	VMASKMOVPS   (R11)(R10*1), Y15, Y0 // m[3]
	VMASKMOVPS   (R12)(R10*1), Y15, Y1 // m[7]
	VMASKMOVPS   (R13)(R10*1), Y15, Y2 // m[11]
	VMASKMOVPS   (R14)(R10*1), Y15, Y3 // m[15]
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y7 // o[0][3]
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y11 // o[1][3]
	VADDPS Y5, Y4, Y0
	VADDPS Y6, Y0, Y0 // y0
	VSUBPS Y6, Y5, Y1
	VSUBPS Y7, Y1, Y1 // y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y0 // pixels 0…7
	VPERM2F128 $0x31, Y3, Y2, Y1 // pixels 8…15
	CMPB acc+56(FP), $0
	JEQ  otst0
	VMASKMOVPS (DI), Y12, Y2
	VADDPS Y2, Y0, Y0
	VMASKMOVPS 32(DI), Y13, Y3
	VADDPS Y3, Y1, Y1
otst0:
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y1, Y13, 32(DI)
	CMPQ rows+16(FP), $2
	JLT  otnext
	ADDQ R8, DI // row 1
	VADDPS Y9, Y8, Y0
	VADDPS Y10, Y0, Y0 // y0
	VSUBPS Y10, Y9, Y1
	VSUBPS Y11, Y1, Y1 // y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y0 // pixels 0…7
	VPERM2F128 $0x31, Y3, Y2, Y1 // pixels 8…15
	CMPB acc+56(FP), $0
	JEQ  otst1
	VMASKMOVPS (DI), Y12, Y2
	VADDPS Y2, Y0, Y0
	VMASKMOVPS 32(DI), Y13, Y3
	VADDPS Y3, Y1, Y1
otst1:
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y1, Y13, 32(DI)
	SUBQ R8, DI
otnext:

odone:
	VZEROUPPER
	RET
