//go:build amd64 && !purego

#include "textflag.h"

// The 6×16 tile lives in Y0..Y11 (row i in Y(2i), Y(2i+1)). FMAS multiplies the B row in
// Y12:Y13 by the six A values at ao(AX), broadcast in turn into Y14/Y15, and accumulates.
#define FMAS(ao) \
	VBROADCASTSS (ao+0)(AX), Y14  \
	VFMADD231PS  Y12, Y14, Y0     \
	VFMADD231PS  Y13, Y14, Y1     \
	VBROADCASTSS (ao+4)(AX), Y15  \
	VFMADD231PS  Y12, Y15, Y2     \
	VFMADD231PS  Y13, Y15, Y3     \
	VBROADCASTSS (ao+8)(AX), Y14  \
	VFMADD231PS  Y12, Y14, Y4     \
	VFMADD231PS  Y13, Y14, Y5     \
	VBROADCASTSS (ao+12)(AX), Y15 \
	VFMADD231PS  Y12, Y15, Y6     \
	VFMADD231PS  Y13, Y15, Y7     \
	VBROADCASTSS (ao+16)(AX), Y14 \
	VFMADD231PS  Y12, Y14, Y8     \
	VFMADD231PS  Y13, Y14, Y9     \
	VBROADCASTSS (ao+20)(AX), Y15 \
	VFMADD231PS  Y12, Y15, Y10    \
	VFMADD231PS  Y13, Y15, Y11

// One k step on packed B at BX.
#define STEP(ao, bo) \
	VMOVUPS bo(BX), Y12      \
	VMOVUPS (bo+32)(BX), Y13 \
	FMAS(ao)

// One k step reading B's row at BX (stride R9), copying it to the packed panel at bo(SI) and
// prefetching at R13.
#define PSTEP(ao, bo) \
	VMOVUPS    (BX), Y12        \
	VMOVUPS    32(BX), Y13      \
	PREFETCHT0 63(R13)          \
	ADDQ       R9, BX           \
	ADDQ       R9, R13          \
	VMOVUPS    Y12, bo(SI)      \
	VMOVUPS    Y13, (bo+32)(SI) \
	FMAS(ao)

// The prefetch stream R13 runs dist rows ahead of BX; once at most dist steps remain
// (CX <= R14), it moves on to the next panel's first row, and R14 = -1 keeps it there.
#define PF_SWITCH \
	CMPQ CX, R14           \
	JGT  3(PC)             \
	MOVQ next+88(FP), R13  \
	MOVQ $-1, R14

#define ZERO_ACC \
	VXORPS Y0, Y0, Y0    \
	VXORPS Y1, Y1, Y1    \
	VXORPS Y2, Y2, Y2    \
	VXORPS Y3, Y3, Y3    \
	VXORPS Y4, Y4, Y4    \
	VXORPS Y5, Y5, Y5    \
	VXORPS Y6, Y6, Y6    \
	VXORPS Y7, Y7, Y7    \
	VXORPS Y8, Y8, Y8    \
	VXORPS Y9, Y9, Y9    \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

// Warm the C tile at DI (row stride DX bytes) while the products are summed.
#define PREFETCH_C \
	MOVQ       DI, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)    \
	ADDQ       DX, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)    \
	ADDQ       DX, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)    \
	ADDQ       DX, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)    \
	ADDQ       DX, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)    \
	ADDQ       DX, R14    \
	PREFETCHT0 (R14)      \
	PREFETCHT0 63(R14)

// C += acc for the tile at DI with row stride DX bytes.
#define ADDC \
	MOVQ   DI, R14 \
	VADDPS (R14), Y0, Y0 \
	VADDPS 32(R14), Y1, Y1 \
	ADDQ   DX, R14 \
	VADDPS (R14), Y2, Y2 \
	VADDPS 32(R14), Y3, Y3 \
	ADDQ   DX, R14 \
	VADDPS (R14), Y4, Y4 \
	VADDPS 32(R14), Y5, Y5 \
	ADDQ   DX, R14 \
	VADDPS (R14), Y6, Y6 \
	VADDPS 32(R14), Y7, Y7 \
	ADDQ   DX, R14 \
	VADDPS (R14), Y8, Y8 \
	VADDPS 32(R14), Y9, Y9 \
	ADDQ   DX, R14 \
	VADDPS (R14), Y10, Y10 \
	VADDPS 32(R14), Y11, Y11

// C = acc, advancing DI.
#define STOREC \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	ADDQ    DX, DI \
	VMOVUPS Y2, (DI) \
	VMOVUPS Y3, 32(DI) \
	ADDQ    DX, DI \
	VMOVUPS Y4, (DI) \
	VMOVUPS Y5, 32(DI) \
	ADDQ    DX, DI \
	VMOVUPS Y6, (DI) \
	VMOVUPS Y7, 32(DI) \
	ADDQ    DX, DI \
	VMOVUPS Y8, (DI) \
	VMOVUPS Y9, 32(DI) \
	ADDQ    DX, DI \
	VMOVUPS Y10, (DI) \
	VMOVUPS Y11, 32(DI)

// func kernelAVX(k int, a, b, c *float32, ldc int, beta bool)
TEXT ·kernelAVX(SB), NOSPLIT, $0-41
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), AX
	MOVQ    b+16(FP), BX
	MOVQ    c+24(FP), DI
	MOVQ    ldc+32(FP), DX
	MOVBQZX beta+40(FP), R8
	SHLQ    $2, DX
	PREFETCH_C
	ZERO_ACC

	CMPQ CX, $4
	JLT  tail

loop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop4

tail:
	TESTQ CX, CX
	JEQ   update

loop1:
	STEP(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNE  loop1

update:
	TESTQ R8, R8
	JEQ   store
	ADDC

store:
	STOREC
	VZEROUPPER
	RET

// func kernelPackAVX(k int, a, src *float32, ldb int, dst, c *float32, ldc int, beta bool, scale, shift *float32, relu bool, next uintptr, dist int)
TEXT ·kernelPackAVX(SB), NOSPLIT, $0-104
	MOVQ    k+0(FP), CX
	MOVQ    a+8(FP), AX
	MOVQ    src+16(FP), BX
	MOVQ    ldb+24(FP), R9
	MOVQ    dst+32(FP), SI
	MOVQ    c+40(FP), DI
	MOVQ    ldc+48(FP), DX
	MOVBQZX beta+56(FP), R8
	MOVQ    scale+64(FP), R10
	MOVQ    shift+72(FP), R11
	MOVBQZX relu+80(FP), R12
	SHLQ    $2, DX
	SHLQ    $2, R9
	PREFETCH_C
	ZERO_ACC
	MOVQ    dist+96(FP), R14
	MOVQ    R14, R13
	IMULQ   R9, R13
	ADDQ    BX, R13
	TESTQ   CX, CX
	JEQ     pupdate
	TESTQ   R10, R10
	JNE     oprow
	TESTQ   R11, R11
	JNE     oprow
	TESTQ   R12, R12
	JNE     oprow

	CMPQ CX, $4
	JLT  ptail

ploop4:
	PF_SWITCH
	PSTEP(0, 0)
	PSTEP(24, 64)
	PSTEP(48, 128)
	PSTEP(72, 192)
	ADDQ $96, AX
	ADDQ $256, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  ploop4

ptail:
	TESTQ CX, CX
	JEQ   pupdate

ploop1:
	PF_SWITCH
	PSTEP(0, 0)
	ADDQ $24, AX
	ADDQ $64, SI
	DECQ CX
	JNE  ploop1
	JMP  pupdate

	// With a row operation: b' = b*scale (if any), + shift (if any), then (0 > b') ? 0 : b'
	// if relu, rounding after each step exactly as packGo does.
oprow:
	PF_SWITCH
	VMOVUPS    (BX), Y12
	VMOVUPS    32(BX), Y13
	PREFETCHT0 63(R13)
	ADDQ       R9, BX
	ADDQ       R9, R13
	TESTQ      R10, R10
	JEQ        noscale
	VBROADCASTSS (R10), Y14
	VMULPS     Y14, Y12, Y12
	VMULPS     Y14, Y13, Y13
	ADDQ       $4, R10

noscale:
	TESTQ R11, R11
	JEQ   noshift
	VBROADCASTSS (R11), Y14
	VADDPS Y14, Y12, Y12
	VADDPS Y14, Y13, Y13
	ADDQ   $4, R11

noshift:
	TESTQ R12, R12
	JEQ   norelu
	// Go order; in Intel order this is vmaxps y12, y14, y12 = (y14 > y12) ? y14 : y12 with
	// y14 = 0, which keeps NaN and -0 like Go's x < 0 test.
	VXORPS Y14, Y14, Y14
	VMAXPS Y12, Y14, Y12
	VMAXPS Y13, Y14, Y13

norelu:
	VMOVUPS Y12, (SI)
	VMOVUPS Y13, 32(SI)
	FMAS(0)
	ADDQ    $24, AX
	ADDQ    $64, SI
	DECQ    CX
	JNE     oprow

pupdate:
	TESTQ R8, R8
	JEQ   pstore
	ADDC

pstore:
	STOREC
	VZEROUPPER
	RET

// GROW finishes tile row (lo, hi) through the backward pass of a row operation: scale and
// shift at off(R10) and off(R11), its input X at R14, C at DI; both advance a row. As vec's
// bnGradAVX computes it: c += acc·scale where x·scale + shift > 0, else c stays as it is.
#define GROW(lo, hi, off) \
	VBROADCASTSS off(R10), Y14      \
	VBROADCASTSS off(R11), Y15      \
	VMULPS       (R14), Y14, Y12    \
	VMULPS       32(R14), Y14, Y13  \
	VADDPS       Y15, Y12, Y12      \
	VADDPS       Y15, Y13, Y13      \
	VMULPS       Y14, lo, lo        \
	VMULPS       Y14, hi, hi        \
	VXORPS       Y14, Y14, Y14      \
	VCMPPS       $0x0e, Y14, Y12, Y12 \
	VCMPPS       $0x0e, Y14, Y13, Y13 \
	VMOVUPS      (DI), Y15          \
	VADDPS       Y15, lo, lo        \
	VBLENDVPS    Y12, lo, Y15, Y15  \
	VMOVUPS      Y15, (DI)          \
	VMOVUPS      32(DI), Y14        \
	VADDPS       Y14, hi, hi        \
	VBLENDVPS    Y13, hi, Y14, Y14  \
	VMOVUPS      Y14, 32(DI)        \
	ADDQ         DX, DI             \
	ADDQ         DX, R14

// GROWPLAIN is GROW without the rectifier: c += acc·scale.
#define GROWPLAIN(lo, hi, off) \
	VBROADCASTSS off(R10), Y14 \
	VMULPS       Y14, lo, lo   \
	VMULPS       Y14, hi, hi   \
	VADDPS       (DI), lo, lo  \
	VADDPS       32(DI), hi, hi \
	VMOVUPS      lo, (DI)      \
	VMOVUPS      hi, 32(DI)    \
	ADDQ         DX, DI

// NEXT_ROWS warms the six rows of C (DI) and X (R14) below a finished tile: the next tile of its
// B panel, which kernelRowsAVX computes next.
#define NEXT_ROWS \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14) \
	ADDQ       DX, DI \
	ADDQ       DX, R14 \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14) \
	ADDQ       DX, DI \
	ADDQ       DX, R14 \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14) \
	ADDQ       DX, DI \
	ADDQ       DX, R14 \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14) \
	ADDQ       DX, DI \
	ADDQ       DX, R14 \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14) \
	ADDQ       DX, DI \
	ADDQ       DX, R14 \
	PREFETCHT0 (DI)  \
	PREFETCHT0 (R14)

// func gradTileAVX(tile, c, x *float32, ldc int, scale, shift *float32, relu bool)
// Finishes the 6×16 tile at tile (row stride 16) into C, through the row operation's backward
// pass at X (C and X of row stride ldc), as kernelRowsAVX's modes 1 (relu) and 2 do.
TEXT ·gradTileAVX(SB), NOSPLIT, $0-49
	MOVQ    tile+0(FP), SI
	MOVQ    c+8(FP), DI
	MOVQ    x+16(FP), R14
	MOVQ    ldc+24(FP), DX
	MOVQ    scale+32(FP), R10
	MOVQ    shift+40(FP), R11
	MOVBQZX relu+48(FP), R12
	SHLQ    $2, DX
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS 128(SI), Y4
	VMOVUPS 160(SI), Y5
	VMOVUPS 192(SI), Y6
	VMOVUPS 224(SI), Y7
	VMOVUPS 256(SI), Y8
	VMOVUPS 288(SI), Y9
	VMOVUPS 320(SI), Y10
	VMOVUPS 352(SI), Y11
	TESTQ   R12, R12
	JEQ     tplain
	GROW(Y0, Y1, 0)
	GROW(Y2, Y3, 4)
	GROW(Y4, Y5, 8)
	GROW(Y6, Y7, 12)
	GROW(Y8, Y9, 16)
	GROW(Y10, Y11, 20)
	NEXT_ROWS
	VZEROUPPER
	RET

tplain:
	GROWPLAIN(Y0, Y1, 0)
	GROWPLAIN(Y2, Y3, 4)
	GROWPLAIN(Y4, Y5, 8)
	GROWPLAIN(Y6, Y7, 12)
	GROWPLAIN(Y8, Y9, 16)
	GROWPLAIN(Y10, Y11, 20)
	LEAQ (DX)(DX*2), R12 // X six rows down, where GROW would have left it
	SHLQ $1, R12
	ADDQ R12, R14
	NEXT_ROWS
	VZEROUPPER
	RET

// func kernelRowsAVX(k int, a, b, c *float32, ldc int, beta bool, rows int, askip int, x, scale, shift *float32, mode int)
// Runs kernelAVX's product for rows consecutive full row panels of A against one B panel:
// panel i of A starts askip bytes after the end of panel i−1's k steps, tile i of C (and of X)
// 6·ldc floats after tile i−1. mode 0 stores or adds (beta) as kernelAVX; mode 1 finishes each
// tile with GROW and mode 2 with GROWPLAIN, scale and shift advancing six rows a tile.
TEXT ·kernelRowsAVX(SB), NOSPLIT, $0-96
	MOVQ    a+8(FP), AX
	MOVQ    c+24(FP), SI
	MOVQ    ldc+32(FP), DX
	MOVBQZX beta+40(FP), R8
	MOVQ    rows+48(FP), R9
	MOVQ    x+64(FP), R12
	MOVQ    scale+72(FP), R10
	MOVQ    shift+80(FP), R11
	MOVQ    mode+88(FP), R13
	SHLQ    $2, DX

rtile:
	MOVQ  k+0(FP), CX
	MOVQ  b+16(FP), BX
	MOVQ  SI, DI
	PREFETCH_C
	TESTQ R13, R13
	JEQ   rzero
	MOVQ  R12, DI
	PREFETCH_C
	MOVQ  SI, DI

rzero:
	ZERO_ACC
	CMPQ CX, $4
	JLT  rtail

rloop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  rloop4

rtail:
	TESTQ CX, CX
	JEQ   rdone

rloop1:
	STEP(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNE  rloop1

rdone:
	ADDQ  askip+56(FP), AX
	CMPQ  R13, $1
	JEQ   rgrad
	CMPQ  R13, $2
	JEQ   rplain
	TESTQ R8, R8
	JEQ   rstore
	ADDC

rstore:
	STOREC
	JMP rnext

rgrad:
	MOVQ R12, R14
	GROW(Y0, Y1, 0)
	GROW(Y2, Y3, 4)
	GROW(Y4, Y5, 8)
	GROW(Y6, Y7, 12)
	GROW(Y8, Y9, 16)
	GROW(Y10, Y11, 20)
	JMP rnext

rplain:
	GROWPLAIN(Y0, Y1, 0)
	GROWPLAIN(Y2, Y3, 4)
	GROWPLAIN(Y4, Y5, 8)
	GROWPLAIN(Y6, Y7, 12)
	GROWPLAIN(Y8, Y9, 16)
	GROWPLAIN(Y10, Y11, 20)

rnext:
	LEAQ (DX)(DX*2), R14
	SHLQ $1, R14
	ADDQ R14, SI
	ADDQ R14, R12
	ADDQ $24, R10
	ADDQ $24, R11
	DECQ R9
	JNE  rtile
	VZEROUPPER
	RET
