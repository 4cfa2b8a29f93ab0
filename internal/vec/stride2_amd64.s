//go:build amd64 && !purego

#include "textflag.h"

// Stride-2 moves (stride2.go) in AVX2. VSHUFPS $0x88 picks the even elements of two registers
// of pairs lane by lane (and $0xDD the odd ones), VPERMPD $0xD8 puts the two 128-bit lanes'
// halves in order; moves only, so every bit pattern (NaN payloads, −0) is kept. The adjoint
// spreads src to the even lanes with VPMOVZXDQ, adds with dst as the first operand (whose NaN
// wins when both are NaN, as in col2im's compiled dst += src) and blends the sums into the even lanes only,
// so the odd ones are stored back as they were read. Written by hand like the Winograd
// transforms beside them.

// func gather2RowsAVX(dst *float32, ld int, src *float32, ls, n, rows int)
// dst[r·ld + i] = src[r·ls + 2i] for r < rows, i < n (n ≥ 5, rows ≥ 1), reading src[r·ls …
// r·ls+2n−2] only: per row, blocks of 16 or 8 while 17 or 9 or more remain (a block of eight
// reads 16 elements), then of four while five or more remain, then one block of four ending at
// dst[n−1] that reads src[2n−9 … 2n−2] and keeps the odd positions.
TEXT ·gather2RowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R11
	MOVQ ld+8(FP), R13
	MOVQ src+16(FP), R12
	MOVQ ls+24(FP), R14
	MOVQ n+32(FP), DX
	MOVQ rows+40(FP), BX
	SHLQ $2, R13 // strides in bytes
	SHLQ $2, R14

grow:
	MOVQ R11, DI
	MOVQ R12, SI
	MOVQ DX, CX
	LEAQ -16(DI)(CX*4), R8 // dst + n − 4
	LEAQ -36(SI)(CX*8), R9 // src + 2n − 9

g16:
	CMPQ CX, $17
	JLT  g8
	VMOVUPS  (SI), Y0
	VMOVUPS  32(SI), Y1
	VMOVUPS  64(SI), Y2
	VMOVUPS  96(SI), Y3
	VSHUFPS  $0x88, Y1, Y0, Y4
	VSHUFPS  $0x88, Y3, Y2, Y5
	VPERMPD  $0xD8, Y4, Y4
	VPERMPD  $0xD8, Y5, Y5
	VMOVUPS  Y4, (DI)
	VMOVUPS  Y5, 32(DI)
	ADDQ $128, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  g16

g8:
	CMPQ CX, $9
	JLT  g4
	VMOVUPS  (SI), Y0
	VMOVUPS  32(SI), Y1
	VSHUFPS  $0x88, Y1, Y0, Y4
	VPERMPD  $0xD8, Y4, Y4
	VMOVUPS  Y4, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $8, CX

g4:
	CMPQ CX, $5
	JLT  glast
	VMOVUPS  (SI), X0
	VMOVUPS  16(SI), X1
	VSHUFPS  $0x88, X1, X0, X4
	VMOVUPS  X4, (DI)

glast:
	VMOVUPS  (R9), X0
	VMOVUPS  16(R9), X1
	VSHUFPS  $0xDD, X1, X0, X4
	VMOVUPS  X4, (R8)
	ADDQ R13, R11
	ADDQ R14, R12
	DECQ BX
	JNZ  grow
	VZEROUPPER
	RET

// func deinterleaveAVX(even, odd, src *float32, n int)
// even[i] = src[2i], odd[i] = src[2i+1] for i < n (n ≥ 4): blocks of eight pairs, then of four,
// then one block of four ending at pair n−1 if any remain.
TEXT ·deinterleaveAVX(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	LEAQ -16(DI)(CX*4), R8  // even + n − 4
	LEAQ -16(DX)(CX*4), R10 // odd + n − 4
	LEAQ -32(SI)(CX*8), R9  // src + 2n − 8

d8:
	CMPQ CX, $8
	JLT  d4
	VMOVUPS  (SI), Y0
	VMOVUPS  32(SI), Y1
	VSHUFPS  $0x88, Y1, Y0, Y4
	VSHUFPS  $0xDD, Y1, Y0, Y5
	VPERMPD  $0xD8, Y4, Y4
	VPERMPD  $0xD8, Y5, Y5
	VMOVUPS  Y4, (DI)
	VMOVUPS  Y5, (DX)
	ADDQ $64, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  d8

d4:
	CMPQ CX, $4
	JLT  dlast
	VMOVUPS  (SI), X0
	VMOVUPS  16(SI), X1
	VSHUFPS  $0x88, X1, X0, X4
	VSHUFPS  $0xDD, X1, X0, X5
	VMOVUPS  X4, (DI)
	VMOVUPS  X5, (DX)
	SUBQ $4, CX

dlast:
	TESTQ CX, CX
	JEQ   ddone
	VMOVUPS  (R9), X0
	VMOVUPS  16(R9), X1
	VSHUFPS  $0x88, X1, X0, X4
	VSHUFPS  $0xDD, X1, X0, X5
	VMOVUPS  X4, (R8)
	VMOVUPS  X5, (R10)

ddone:
	VZEROUPPER
	RET

// func addScatter2RowsAVX(dst *float32, ld int, src *float32, ls, n, rows int)
// dst[r·ld + 2i] += src[r·ls + i] for r < rows, i < n (n ≥ 1, rows ≥ 1), touching dst[r·ld …
// r·ld+2n−2] only: per row, blocks of eight while nine or more remain (a block touches 16
// elements of dst), then of four while five or more remain, then one element at a time.
TEXT ·addScatter2RowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R11
	MOVQ ld+8(FP), R13
	MOVQ src+16(FP), R12
	MOVQ ls+24(FP), R14
	MOVQ n+32(FP), DX
	MOVQ rows+40(FP), BX
	SHLQ $2, R13
	SHLQ $2, R14

arow:
	MOVQ R11, DI
	MOVQ R12, SI
	MOVQ DX, CX

a8:
	CMPQ CX, $9
	JLT  a4
	VPMOVZXDQ (SI), Y0   // src[0], ·, src[1], ·, … src[3], ·
	VPMOVZXDQ 16(SI), Y1 // src[4] … src[7] likewise
	VMOVUPS   (DI), Y2
	VMOVUPS   32(DI), Y3
	VADDPS    Y0, Y2, Y4 // dst + src: dst is the first operand
	VADDPS    Y1, Y3, Y5
	VBLENDPS  $0x55, Y4, Y2, Y4 // sums in the even lanes, dst as read in the odd ones
	VBLENDPS  $0x55, Y5, Y3, Y5
	VMOVUPS   Y4, (DI)
	VMOVUPS   Y5, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JMP  a8

a4:
	CMPQ CX, $5
	JLT  a1
	VPMOVZXDQ (SI), Y0
	VMOVUPS   (DI), Y2
	VADDPS    Y0, Y2, Y4
	VBLENDPS  $0x55, Y4, Y2, Y4
	VMOVUPS   Y4, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $4, CX

a1:
	VMOVSS (DI), X0
	VADDSS (SI), X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  a1
	ADDQ R13, R11
	ADDQ R14, R12
	DECQ BX
	JNZ  arow
	VZEROUPPER
	RET
