//go:build amd64 && !purego

#include "textflag.h"

// back2Idx: lane l takes value l/2 of the eight loaded, so that a zeroing mask of the even (or
// odd) lanes spreads them to every second column.
DATA back2Idx<>+0(SB)/4, $0
DATA back2Idx<>+4(SB)/4, $0
DATA back2Idx<>+8(SB)/4, $1
DATA back2Idx<>+12(SB)/4, $1
DATA back2Idx<>+16(SB)/4, $2
DATA back2Idx<>+20(SB)/4, $2
DATA back2Idx<>+24(SB)/4, $3
DATA back2Idx<>+28(SB)/4, $3
DATA back2Idx<>+32(SB)/4, $4
DATA back2Idx<>+36(SB)/4, $4
DATA back2Idx<>+40(SB)/4, $5
DATA back2Idx<>+44(SB)/4, $5
DATA back2Idx<>+48(SB)/4, $6
DATA back2Idx<>+52(SB)/4, $6
DATA back2Idx<>+56(SB)/4, $7
DATA back2Idx<>+60(SB)/4, $7
GLOBL back2Idx<>(SB), RODATA|NOPTR, $64

// func dwBack2k512(d, gr, w *float32, tbl *uint64, nc, ldb, h, oh, ow4, sh, dh, pt, kh, rstep, b0, b1, b2 int, perm uint64)
// For each output row oy, for each chunk of 16 input columns: the three spread taps t₀…t₂ (a
// masked load of eight gradient values, which reads nothing outside the row, and a permute that
// zeroes the other lanes, +0 as in the spread row), then for each kernel row i whose input row
// iy = oy·sh + i·dh − pt lies inside the plane: acc = ((+0 + w₀t₀) + w₁t₁) + w₂t₂, then acc +
// old, stored under the chunk's mask. These are dwRows3x512's operations with their operand
// order (which decides a NaN's payload), so the bits are depthwiseBackRows's. Each input row
// gets its sums in the order of oy, as there; chunks and kernel rows touch different values.
TEXT ·dwBack2k512(SB), NOSPLIT, $0-144
	MOVQ      d+0(FP), DI
	MOVQ      gr+8(FP), SI
	VMOVUPS   back2Idx<>(SB), Z31
	VXORPS    Z30, Z30, Z30       // +0: dwRows's bias, where each sum starts
	MOVQ      perm+136(FP), AX
	KMOVW     AX, K5
	SHRQ      $16, AX
	KMOVW     AX, K6
	SHRQ      $16, AX
	KMOVW     AX, K7
	MOVQ      pt+88(FP), R9
	NEGQ      R9                  // R9: iy of kernel row 0 for the current oy
	MOVQ      oh+56(FP), BX

row:
	MOVQ  R9, R10
	IMULQ ldb+40(FP), R10
	ADDQ  DI, R10                 // row iy's start (not read unless 0 ≤ iy < h)
	MOVQ  tbl+24(FP), R8
	MOVQ  nc+32(FP), CX
	MOVQ  SI, R11                 // this chunk's gradient values: 8 per 16 columns
	XORQ  DX, DX                  // this chunk's byte offset in an input row

chunk:
	MOVQ      (R8), AX
	KMOVW     AX, K1
	SHRQ      $16, AX
	KMOVW     AX, K2
	SHRQ      $16, AX
	KMOVW     AX, K3
	SHRQ      $16, AX
	KMOVW     AX, K4
	MOVQ      b0+112(FP), R12
	VMOVUPS.Z (R11)(R12*4), K2, Z0
	VPERMPS.Z Z0, Z31, K5, Z0
	MOVQ      b1+120(FP), R12
	VMOVUPS.Z (R11)(R12*4), K3, Z1
	VPERMPS.Z Z1, Z31, K6, Z1
	MOVQ      b2+128(FP), R12
	VMOVUPS.Z (R11)(R12*4), K4, Z2
	VPERMPS.Z Z2, Z31, K7, Z2

	// Kernel row i uses row kh−1−i of the flipped kernel: from the last row backwards.
	MOVQ kh+96(FP), AX
	LEAQ -3(AX)(AX*2), R12       // 3·(kh−1)
	SHLQ $2, R12
	ADDQ w+16(FP), R12
	MOVQ R9, R13
	LEAQ (R10)(DX*1), R14

krow:
	CMPQ         R13, h+48(FP)
	JAE          knext            // unsigned: also iy < 0
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	VMULPS       Z0, Z16, Z19
	VMULPS       Z1, Z17, Z20
	VMULPS       Z2, Z18, Z21
	VADDPS       Z19, Z30, Z22
	VADDPS       Z20, Z22, Z22
	VADDPS       Z21, Z22, Z22
	VMOVUPS.Z    (R14), K1, Z23
	VADDPS       Z23, Z22, Z22
	VMOVUPS      Z22, K1, (R14)

knext:
	SUBQ $12, R12
	ADDQ dh+80(FP), R13
	ADDQ rstep+104(FP), R14
	DECQ AX
	JNZ  krow

	ADDQ $8, R8
	ADDQ $32, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  chunk

	ADDQ ow4+64(FP), SI
	ADDQ sh+72(FP), R9
	DECQ BX
	JNZ  row
	VZEROUPPER
	RET

// func dwBack2r3k512(d, gr, w, carry *float32, tbl *uint64, nc, noy, ow4, dstep, sstep, b0, b1, b2 int, perm uint64)
// dwBack2k512 for three kernel rows when the vertical stride is twice the dilation (MobileNet's
// 3×3 stride 2), over output rows whose three input rows all lie inside the plane (d: the first
// one's). Kernel row 2's input row is the next output row's kernel row 0 row, so its sum with
// the old values goes to carry (one row of whole vectors) instead of d, and the next output row
// adds to it from there before storing it in d: the same additions in the same order, while
// the plane's rows are never reloaded right after a store, which stalls when rows are narrower
// than a vector and the stores cover the next row's head. The caller copies the first row into
// carry and the last one out. Weights stay in registers; output rows in order, chunks inside.
TEXT ·dwBack2r3k512(SB), NOSPLIT, $0-112
	MOVQ         d+0(FP), DI
	MOVQ         gr+8(FP), SI
	MOVQ         w+16(FP), AX
	VBROADCASTSS 24(AX), Z3       // kernel row i is row 2−i of the flipped kernel
	VBROADCASTSS 28(AX), Z4
	VBROADCASTSS 32(AX), Z5
	VBROADCASTSS 12(AX), Z6
	VBROADCASTSS 16(AX), Z7
	VBROADCASTSS 20(AX), Z8
	VBROADCASTSS (AX), Z9
	VBROADCASTSS 4(AX), Z10
	VBROADCASTSS 8(AX), Z11
	VMOVUPS      back2Idx<>(SB), Z31
	VXORPS       Z30, Z30, Z30
	MOVQ         perm+104(FP), AX
	KMOVW        AX, K5
	SHRQ         $16, AX
	KMOVW        AX, K6
	SHRQ         $16, AX
	KMOVW        AX, K7
	MOVQ         b0+80(FP), R9
	MOVQ         b1+88(FP), R10
	MOVQ         b2+96(FP), R12
	MOVQ         dstep+64(FP), R14
	MOVQ         noy+48(FP), BX

r3row:
	MOVQ tbl+32(FP), R8
	MOVQ nc+40(FP), CX
	MOVQ DI, R13
	MOVQ SI, R11
	MOVQ carry+24(FP), DX

r3chunk:
	MOVQ      (R8), AX
	KMOVW     AX, K1
	SHRQ      $16, AX
	KMOVW     AX, K2
	SHRQ      $16, AX
	KMOVW     AX, K3
	SHRQ      $16, AX
	KMOVW     AX, K4
	VMOVUPS   (DX), Z24
	VMOVUPS.Z (R13)(R14*1), K1, Z25
	VMOVUPS.Z (R13)(R14*2), K1, Z26
	VMOVUPS.Z (R11)(R9*4), K2, Z0
	VPERMPS.Z Z0, Z31, K5, Z0
	VMOVUPS.Z (R11)(R10*4), K3, Z1
	VPERMPS.Z Z1, Z31, K6, Z1
	VMOVUPS.Z (R11)(R12*4), K4, Z2
	VPERMPS.Z Z2, Z31, K7, Z2

	VMULPS  Z0, Z3, Z16
	VMULPS  Z1, Z4, Z17
	VMULPS  Z2, Z5, Z18
	VADDPS  Z16, Z30, Z16
	VADDPS  Z17, Z16, Z16
	VADDPS  Z18, Z16, Z16
	VADDPS  Z24, Z16, Z24
	VMOVUPS Z24, K1, (R13)

	VMULPS  Z0, Z6, Z19
	VMULPS  Z1, Z7, Z20
	VMULPS  Z2, Z8, Z21
	VADDPS  Z19, Z30, Z19
	VADDPS  Z20, Z19, Z19
	VADDPS  Z21, Z19, Z19
	VADDPS  Z25, Z19, Z25
	VMOVUPS Z25, K1, (R13)(R14*1)

	VMULPS  Z0, Z9, Z22
	VMULPS  Z1, Z10, Z23
	VMULPS  Z2, Z11, Z27
	VADDPS  Z22, Z30, Z22
	VADDPS  Z23, Z22, Z22
	VADDPS  Z27, Z22, Z22
	VADDPS  Z26, Z22, Z24
	VMOVUPS Z24, (DX)

	ADDQ $8, R8
	ADDQ $64, R13
	ADDQ $32, R11
	ADDQ $64, DX
	DECQ CX
	JNZ  r3chunk

	ADDQ sstep+72(FP), DI
	ADDQ ow4+56(FP), SI
	DECQ BX
	JNZ  r3row
	VZEROUPPER
	RET
