//go:build amd64 && !purego

#include "textflag.h"

// func axpyAVX(y, x *float32, n int, a float32)
// n is a positive multiple of 8.
TEXT ·axpyAVX(SB), NOSPLIT, $0-28
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y0
	CMPQ         CX, $16
	JLT          single

pair:
	VMULPS  (SI), Y0, Y1
	VMULPS  32(SI), Y0, Y2
	VADDPS  (DI), Y1, Y1
	VADDPS  32(DI), Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     pair
	TESTQ   CX, CX
	JEQ     done

single:
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     single

done:
	VZEROUPPER
	RET

// func clipAVX(dst, src *float32, n int, lo, hi float32)
// dst = min(hi, max(lo, src)) with src the second operand of each, so that NaN passes through.
// n is a positive multiple of 8.
TEXT ·clipAVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y0
	VBROADCASTSS hi+28(FP), Y2

cloop:
	VMAXPS  (SI), Y0, Y1
	VMINPS  Y1, Y2, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     cloop
	VZEROUPPER
	RET

// func clipGradAVX(d, grad, x *float32, n int, lo, hi float32)
// d += g where lo < x < hi, else d += 0. n is a positive multiple of 8.
TEXT ·clipGradAVX(SB), NOSPLIT, $0-40
	MOVQ         d+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y0
	VBROADCASTSS hi+36(FP), Y2

gloop:
	VMOVUPS (DX), Y3
	VCMPPS  $0x1e, Y0, Y3, Y4 // x > lo
	VCMPPS  $0x11, Y2, Y3, Y5 // x < hi
	VANDPS  Y4, Y5, Y4
	VANDPS  (SI), Y4, Y4
	VADDPS  (DI), Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     gloop
	VZEROUPPER
	RET

// func maskAVX(grad, y *float32, n int, lo, hi float32)
// grad = grad where lo < y < hi, else +0. n is a positive multiple of 8.
TEXT ·maskAVX(SB), NOSPLIT, $0-32
	MOVQ         grad+0(FP), DI
	MOVQ         y+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y0
	VBROADCASTSS hi+28(FP), Y2

mloop:
	VMOVUPS (SI), Y3
	VCMPPS  $0x1e, Y0, Y3, Y4 // y > lo
	VCMPPS  $0x11, Y2, Y3, Y5 // y < hi
	VANDPS  Y4, Y5, Y4
	VANDPS  (DI), Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     mloop
	VZEROUPPER
	RET

// func dwRowAVX(out, src, w *float32, n, k, dil int)
// out[x] += w[0]·src[x] + … + w[k−1]·src[x+(k−1)·dil], adding the taps in order, each product
// rounded before its add. n is a positive multiple of 8, k ≥ 1.
TEXT ·dwRowAVX(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R9
	MOVQ dil+40(FP), R10
	SHLQ $2, R10

dloop:
	VMOVUPS (DI), Y1
	MOVQ    SI, R11
	MOVQ    R8, R12
	MOVQ    R9, DX

dtap:
	VBROADCASTSS (R12), Y2
	VMULPS       (R11), Y2, Y3
	VADDPS       Y3, Y1, Y1
	ADDQ         R10, R11
	ADDQ         $4, R12
	DECQ         DX
	JNZ          dtap
	VMOVUPS      Y1, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          dloop
	VZEROUPPER
	RET

// dwTail holds eight −1 then eight 0: 32 bytes from dwTail+4·(8−r) is the mask of r lanes.
DATA dwTail<>+0(SB)/4, $0xffffffff
DATA dwTail<>+4(SB)/4, $0xffffffff
DATA dwTail<>+8(SB)/4, $0xffffffff
DATA dwTail<>+12(SB)/4, $0xffffffff
DATA dwTail<>+16(SB)/4, $0xffffffff
DATA dwTail<>+20(SB)/4, $0xffffffff
DATA dwTail<>+24(SB)/4, $0xffffffff
DATA dwTail<>+28(SB)/4, $0xffffffff
DATA dwTail<>+32(SB)/4, $0
DATA dwTail<>+36(SB)/4, $0
DATA dwTail<>+40(SB)/4, $0
DATA dwTail<>+44(SB)/4, $0
DATA dwTail<>+48(SB)/4, $0
DATA dwTail<>+52(SB)/4, $0
DATA dwTail<>+56(SB)/4, $0
DATA dwTail<>+60(SB)/4, $0
GLOBL dwTail<>(SB), RODATA|NOPTR, $64

// func dwRowsAVX(out, src, w *float32, mask *uint32, n, kw, dil, kh, rs, ms, add int, bias float32)
// out[x] = bias + Σᵢ Σⱼ w[i·kw+j]·(src[x + i·rs + j·dil] & mask[j·ms + x]), the taps in order
// (rows, then columns), each product rounded before its add; with add ≠ 0 the old out[x] is then
// added to the sum. n ≥ 1, kw, kh ≥ 1. 32 outputs at a time (four chains of adds), then 16, 8, the last
// n mod 8 with masked loads and stores.
TEXT ·dwRowsAVX(SB), NOSPLIT, $0-92
	MOVQ         out+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         mask+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         dil+48(FP), R10
	SHLQ         $2, R10
	MOVQ         rs+64(FP), R14
	SHLQ         $2, R14
	MOVQ         ms+72(FP), R9
	SHLQ         $2, R9
	VBROADCASTSS bias+88(FP), Y0

rquad:
	CMPQ CX, $32
	JLT  rpairs
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y4
	VMOVAPS Y0, Y8
	VMOVAPS Y0, Y9
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+56(FP), AX

rqrow:
	MOVQ BX, R11
	MOVQ R8, R13
	MOVQ kw+40(FP), DX

rqtap:
	VBROADCASTSS (R12), Y2
	VMOVUPS      (R11), Y3
	VANDPS       (R13), Y3, Y3
	VMOVUPS      32(R11), Y5
	VANDPS       32(R13), Y5, Y5
	VMOVUPS      64(R11), Y10
	VANDPS       64(R13), Y10, Y10
	VMOVUPS      96(R11), Y11
	VANDPS       96(R13), Y11, Y11
	VMULPS       Y3, Y2, Y3
	VMULPS       Y5, Y2, Y5
	VMULPS       Y10, Y2, Y10
	VMULPS       Y11, Y2, Y11
	VADDPS       Y3, Y1, Y1
	VADDPS       Y5, Y4, Y4
	VADDPS       Y10, Y8, Y8
	VADDPS       Y11, Y9, Y9
	ADDQ         R10, R11
	ADDQ         R9, R13
	ADDQ         $4, R12
	DECQ         DX
	JNZ          rqtap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          rqrow
	CMPQ         add+80(FP), $0
	JEQ          rqstore
	VADDPS       (DI), Y1, Y1
	VADDPS       32(DI), Y4, Y4
	VADDPS       64(DI), Y8, Y8
	VADDPS       96(DI), Y9, Y9

rqstore:
	VMOVUPS Y1, (DI)
	VMOVUPS Y4, 32(DI)
	VMOVUPS Y8, 64(DI)
	VMOVUPS Y9, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	ADDQ    $128, R8
	SUBQ    $32, CX
	JMP     rquad

rpairs:
	CMPQ CX, $16
	JLT  rsingle

rpair:
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y4
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+56(FP), AX

rprow:
	MOVQ BX, R11
	MOVQ R8, R13
	MOVQ kw+40(FP), DX

rptap:
	VBROADCASTSS (R12), Y2
	VMOVUPS      (R11), Y3
	VANDPS       (R13), Y3, Y3
	VMOVUPS      32(R11), Y5
	VANDPS       32(R13), Y5, Y5
	VMULPS       Y3, Y2, Y3
	VMULPS       Y5, Y2, Y5
	VADDPS       Y3, Y1, Y1
	VADDPS       Y5, Y4, Y4
	ADDQ         R10, R11
	ADDQ         R9, R13
	ADDQ         $4, R12
	DECQ         DX
	JNZ          rptap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          rprow
	CMPQ         add+80(FP), $0
	JEQ          rpstore
	VADDPS       (DI), Y1, Y1
	VADDPS       32(DI), Y4, Y4

rpstore:
	VMOVUPS Y1, (DI)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     rpair

rsingle:
	CMPQ CX, $8
	JLT  rtail
	VMOVAPS Y0, Y1
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+56(FP), AX

rsrow:
	MOVQ BX, R11
	MOVQ R8, R13
	MOVQ kw+40(FP), DX

rstap:
	VBROADCASTSS (R12), Y2
	VMOVUPS      (R11), Y3
	VANDPS       (R13), Y3, Y3
	VMULPS       Y3, Y2, Y3
	VADDPS       Y3, Y1, Y1
	ADDQ         R10, R11
	ADDQ         R9, R13
	ADDQ         $4, R12
	DECQ         DX
	JNZ          rstap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          rsrow
	CMPQ         add+80(FP), $0
	JEQ          rsstore
	VADDPS       (DI), Y1, Y1

rsstore:
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     rsingle

rtail:
	TESTQ   CX, CX
	JEQ     rdone
	LEAQ    dwTail<>+32(SB), AX
	SHLQ    $2, CX
	SUBQ    CX, AX
	VMOVUPS (AX), Y6
	VMOVAPS Y0, Y1
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+56(FP), AX

rtrow:
	MOVQ BX, R11
	MOVQ R8, R13
	MOVQ kw+40(FP), DX

rttap:
	VBROADCASTSS (R12), Y2
	VMASKMOVPS   (R11), Y6, Y3
	VMASKMOVPS   (R13), Y6, Y7
	VANDPS       Y7, Y3, Y3
	VMULPS       Y3, Y2, Y3
	VADDPS       Y3, Y1, Y1
	ADDQ         R10, R11
	ADDQ         R9, R13
	ADDQ         $4, R12
	DECQ         DX
	JNZ          rttap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          rtrow
	CMPQ         add+80(FP), $0
	JEQ          rtstore
	VMASKMOVPS   (DI), Y6, Y7
	VADDPS       Y7, Y1, Y1

rtstore:
	VMASKMOVPS Y1, Y6, (DI)

rdone:
	VZEROUPPER
	RET

// func dwRows2AVX(out, src, w *float32, n, kw, dil, kh, rs int, bias float32)
// out[x] = bias + Σᵢ Σⱼ w[i·kw+j]·src[2x + i·rs + j·dil], the taps in order (rows, then
// columns), each product rounded before its add: dwRows2Go at a horizontal stride of 2. Each tap
// loads the 16 source values of 8 outputs and keeps the even ones (VSHUFPS, then VPERMPD to
// restore their order). A full vector reads one value past the last it uses, so full vectors run
// while more than 8 outputs remain (16 for pairs) and the last 1 to 8 use masked loads and a
// masked store, reading nothing past src[2(n−1) + (kh−1)·rs + (kw−1)·dil]. n ≥ 1, kw, kh ≥ 1.
TEXT ·dwRows2AVX(SB), NOSPLIT, $0-68
	MOVQ         out+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+24(FP), CX
	MOVQ         dil+40(FP), R10
	SHLQ         $2, R10
	MOVQ         rs+56(FP), R14
	SHLQ         $2, R14
	VBROADCASTSS bias+64(FP), Y0

s2pair:
	CMPQ    CX, $16
	JLE     s2single
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y4
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+48(FP), AX

s2prow:
	MOVQ BX, R11
	MOVQ kw+32(FP), DX

s2ptap:
	VBROADCASTSS (R12), Y2
	VMOVUPS      (R11), Y3
	VMOVUPS      32(R11), Y5
	VMOVUPS      64(R11), Y6
	VMOVUPS      96(R11), Y7
	VSHUFPS      $0x88, Y5, Y3, Y3
	VSHUFPS      $0x88, Y7, Y6, Y6
	VPERMPD      $0xd8, Y3, Y3
	VPERMPD      $0xd8, Y6, Y6
	VMULPS       Y3, Y2, Y3
	VMULPS       Y6, Y2, Y6
	VADDPS       Y3, Y1, Y1
	VADDPS       Y6, Y4, Y4
	ADDQ         R10, R11
	ADDQ         $4, R12
	DECQ         DX
	JNZ          s2ptap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          s2prow
	VMOVUPS      Y1, (DI)
	VMOVUPS      Y4, 32(DI)
	ADDQ         $64, DI
	ADDQ         $128, SI
	SUBQ         $16, CX
	JMP          s2pair

s2single:
	CMPQ    CX, $8
	JLE     s2tail
	VMOVAPS Y0, Y1
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+48(FP), AX

s2srow:
	MOVQ BX, R11
	MOVQ kw+32(FP), DX

s2stap:
	VBROADCASTSS (R12), Y2
	VMOVUPS      (R11), Y3
	VMOVUPS      32(R11), Y5
	VSHUFPS      $0x88, Y5, Y3, Y3
	VPERMPD      $0xd8, Y3, Y3
	VMULPS       Y3, Y2, Y3
	VADDPS       Y3, Y1, Y1
	ADDQ         R10, R11
	ADDQ         $4, R12
	DECQ         DX
	JNZ          s2stap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          s2srow
	VMOVUPS      Y1, (DI)
	ADDQ         $32, DI
	ADDQ         $64, SI
	SUBQ         $8, CX
	JMP          s2single

s2tail:
	// CX outputs (1 to 8) need m = 2·CX − 1 source values per tap: min(m, 8) from the first
	// 8 and the rest from the next 8.
	LEAQ    dwTail<>+32(SB), R8
	MOVQ    CX, R9
	SHLQ    $2, R9
	MOVQ    R8, R13
	SUBQ    R9, R13
	VMOVUPS (R13), Y10            // store mask: CX lanes
	LEAQ    -1(CX)(CX*1), R9      // m
	MOVQ    $8, R13
	CMPQ    R9, R13
	CMOVQLT R9, R13               // min(m, 8)
	SUBQ    R13, R9               // m − min(m, 8)
	SHLQ    $2, R13
	SHLQ    $2, R9
	MOVQ    R8, AX
	SUBQ    R13, AX
	VMOVUPS (AX), Y8
	MOVQ    R8, AX
	SUBQ    R9, AX
	VMOVUPS (AX), Y9
	VMOVAPS Y0, Y1
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+48(FP), AX

s2trow:
	MOVQ BX, R11
	MOVQ kw+32(FP), DX

s2ttap:
	VBROADCASTSS (R12), Y2
	VMASKMOVPS   (R11), Y8, Y3
	VMASKMOVPS   32(R11), Y9, Y5
	VSHUFPS      $0x88, Y5, Y3, Y3
	VPERMPD      $0xd8, Y3, Y3
	VMULPS       Y3, Y2, Y3
	VADDPS       Y3, Y1, Y1
	ADDQ         R10, R11
	ADDQ         $4, R12
	DECQ         DX
	JNZ          s2ttap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          s2trow
	VMASKMOVPS   Y1, Y10, (DI)
	VZEROUPPER
	RET

// func biasClipAVX(dst *float32, n int, b, lo, hi float32)
// dst = min(hi, max(lo, dst + b)), the sum rounded first and the comparisons as clipAVX's (NaN
// passes). n is a positive multiple of 8.
TEXT ·biasClipAVX(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS b+16(FP), Y3
	VBROADCASTSS lo+20(FP), Y0
	VBROADCASTSS hi+24(FP), Y2

bcloop:
	VADDPS  (DI), Y3, Y1
	VMAXPS  Y1, Y0, Y1
	VMINPS  Y1, Y2, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     bcloop
	VZEROUPPER
	RET

// func dwRows3x512(out, src, w *float32, mask *uint32, n, kw, dil, kh, rs, ms, add int, bias float32)
// dwRowsAVX for kw = 3 with AVX-512: the same sums in the same order, 16 lanes a vector. A tap's
// mask depends on its column and x only, so each vector's three masks are loaded once and kept
// in registers over the kh kernel rows (the row kernel is otherwise bound by its loads). 64
// outputs at a time (four chains of adds), then 16, then the last n mod 16 under a lane mask.
TEXT ·dwRows3x512(SB), NOSPLIT, $0-92
	MOVQ         out+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         mask+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         dil+48(FP), R10
	SHLQ         $2, R10
	MOVQ         rs+64(FP), R14
	SHLQ         $2, R14
	MOVQ         ms+72(FP), R9
	SHLQ         $2, R9
	VBROADCASTSS bias+88(FP), Z23

z4:
	CMPQ      CX, $64
	JLT       z1
	MOVQ      R8, R13
	VMOVDQU32 (R13), Z4
	VMOVDQU32 64(R13), Z5
	VMOVDQU32 128(R13), Z6
	VMOVDQU32 192(R13), Z7
	ADDQ      R9, R13
	VMOVDQU32 (R13), Z8
	VMOVDQU32 64(R13), Z9
	VMOVDQU32 128(R13), Z10
	VMOVDQU32 192(R13), Z11
	ADDQ      R9, R13
	VMOVDQU32 (R13), Z12
	VMOVDQU32 64(R13), Z13
	VMOVDQU32 128(R13), Z14
	VMOVDQU32 192(R13), Z15
	VMOVAPS   Z23, Z0
	VMOVAPS   Z23, Z1
	VMOVAPS   Z23, Z2
	VMOVAPS   Z23, Z3
	MOVQ      SI, BX
	MOVQ      w+16(FP), R12
	MOVQ      kh+56(FP), AX

z4row:
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	MOVQ         BX, R11
	VPANDD       (R11), Z4, Z19
	VPANDD       64(R11), Z5, Z20
	VPANDD       128(R11), Z6, Z21
	VPANDD       192(R11), Z7, Z22
	VMULPS       Z19, Z16, Z19
	VMULPS       Z20, Z16, Z20
	VMULPS       Z21, Z16, Z21
	VMULPS       Z22, Z16, Z22
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	VADDPS       Z21, Z2, Z2
	VADDPS       Z22, Z3, Z3
	ADDQ         R10, R11
	VPANDD       (R11), Z8, Z19
	VPANDD       64(R11), Z9, Z20
	VPANDD       128(R11), Z10, Z21
	VPANDD       192(R11), Z11, Z22
	VMULPS       Z19, Z17, Z19
	VMULPS       Z20, Z17, Z20
	VMULPS       Z21, Z17, Z21
	VMULPS       Z22, Z17, Z22
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	VADDPS       Z21, Z2, Z2
	VADDPS       Z22, Z3, Z3
	ADDQ         R10, R11
	VPANDD       (R11), Z12, Z19
	VPANDD       64(R11), Z13, Z20
	VPANDD       128(R11), Z14, Z21
	VPANDD       192(R11), Z15, Z22
	VMULPS       Z19, Z18, Z19
	VMULPS       Z20, Z18, Z20
	VMULPS       Z21, Z18, Z21
	VMULPS       Z22, Z18, Z22
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	VADDPS       Z21, Z2, Z2
	VADDPS       Z22, Z3, Z3
	ADDQ         $12, R12
	ADDQ         R14, BX
	DECQ         AX
	JNZ          z4row
	CMPQ         add+80(FP), $0
	JEQ          z4store
	VADDPS       (DI), Z0, Z0
	VADDPS       64(DI), Z1, Z1
	VADDPS       128(DI), Z2, Z2
	VADDPS       192(DI), Z3, Z3

z4store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	ADDQ    $256, R8
	SUBQ    $64, CX
	JMP     z4

z1:
	CMPQ      CX, $16
	JLT       ztail
	MOVQ      R8, R13
	VMOVDQU32 (R13), Z4
	ADDQ      R9, R13
	VMOVDQU32 (R13), Z8
	ADDQ      R9, R13
	VMOVDQU32 (R13), Z12
	VMOVAPS   Z23, Z0
	MOVQ      SI, BX
	MOVQ      w+16(FP), R12
	MOVQ      kh+56(FP), AX

z1row:
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	MOVQ         BX, R11
	VPANDD       (R11), Z4, Z19
	VMULPS       Z19, Z16, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VPANDD       (R11), Z8, Z19
	VMULPS       Z19, Z17, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VPANDD       (R11), Z12, Z19
	VMULPS       Z19, Z18, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         $12, R12
	ADDQ         R14, BX
	DECQ         AX
	JNZ          z1row
	CMPQ         add+80(FP), $0
	JEQ          z1store
	VADDPS       (DI), Z0, Z0

z1store:
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	SUBQ    $16, CX
	JMP     z1

ztail:
	TESTQ          CX, CX
	JEQ            zdone
	MOVL           $1, AX
	SHLL           CX, AX
	DECL           AX
	KMOVW          AX, K1
	MOVQ           R8, R13
	VMOVDQU32.Z    (R13), K1, Z4
	ADDQ           R9, R13
	VMOVDQU32.Z    (R13), K1, Z8
	ADDQ           R9, R13
	VMOVDQU32.Z    (R13), K1, Z12
	VMOVAPS        Z23, Z0
	MOVQ           SI, BX
	MOVQ           w+16(FP), R12
	MOVQ           kh+56(FP), AX

ztrow:
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	MOVQ         BX, R11
	VMOVUPS.Z    (R11), K1, Z19
	VPANDD       Z19, Z4, Z19
	VMULPS       Z19, Z16, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K1, Z19
	VPANDD       Z19, Z8, Z19
	VMULPS       Z19, Z17, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K1, Z19
	VPANDD       Z19, Z12, Z19
	VMULPS       Z19, Z18, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         $12, R12
	ADDQ         R14, BX
	DECQ         AX
	JNZ          ztrow
	CMPQ         add+80(FP), $0
	JEQ          ztstore
	VMOVUPS.Z    (DI), K1, Z19
	VADDPS       Z19, Z0, Z0

ztstore:
	VMOVUPS Z0, K1, (DI)

zdone:
	VZEROUPPER
	RET

// func dwRows3k512(out *float32, src uintptr, w *float32, mask *uint32, n, dil, kh, rs, ms, add int, bias float32)
// dwRows3x512's sums, with each tap's mask as a lane mask of its load: a masked lane is not read
// at all (+0 in its place), so that src may start before, or its masked taps run past, the
// source plane (flatPlane's first and last pixels, whose wrapped taps fall outside it). 32
// outputs at a time (six lane masks), then 16 under the lane masks ANDed with the tail's.
TEXT ·dwRows3k512(SB), NOSPLIT, $0-84
	MOVQ         out+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         mask+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         dil+40(FP), R10
	SHLQ         $2, R10
	MOVQ         rs+56(FP), R14
	SHLQ         $2, R14
	MOVQ         ms+64(FP), R9
	SHLQ         $2, R9
	VBROADCASTSS bias+80(FP), Z23
	VPTERNLOGD   $0xff, Z24, Z24, Z24 // all ones, for VPTESTMD

k2:
	CMPQ     CX, $32
	JLT      k1
	MOVQ     R8, R13
	VPTESTMD (R13), Z24, K1
	VPTESTMD 64(R13), Z24, K2
	ADDQ     R9, R13
	VPTESTMD (R13), Z24, K3
	VPTESTMD 64(R13), Z24, K4
	ADDQ     R9, R13
	VPTESTMD (R13), Z24, K5
	VPTESTMD 64(R13), Z24, K6
	VMOVAPS  Z23, Z0
	VMOVAPS  Z23, Z1
	MOVQ     SI, BX
	MOVQ     w+16(FP), R12
	MOVQ     kh+48(FP), AX

k2row:
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	MOVQ         BX, R11
	VMOVUPS.Z    (R11), K1, Z19
	VMOVUPS.Z    64(R11), K2, Z20
	VMULPS       Z19, Z16, Z19
	VMULPS       Z20, Z16, Z20
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K3, Z19
	VMOVUPS.Z    64(R11), K4, Z20
	VMULPS       Z19, Z17, Z19
	VMULPS       Z20, Z17, Z20
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K5, Z19
	VMOVUPS.Z    64(R11), K6, Z20
	VMULPS       Z19, Z18, Z19
	VMULPS       Z20, Z18, Z20
	VADDPS       Z19, Z0, Z0
	VADDPS       Z20, Z1, Z1
	ADDQ         $12, R12
	ADDQ         R14, BX
	DECQ         AX
	JNZ          k2row
	CMPQ         add+72(FP), $0
	JEQ          k2store
	VADDPS       (DI), Z0, Z0
	VADDPS       64(DI), Z1, Z1

k2store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	ADDQ    $128, R8
	SUBQ    $32, CX
	JMP     k2

k1:
	// 16 or fewer outputs at a time, the lane mask K7 ANDed into each tap's.
	TESTQ CX, CX
	JEQ   kdone
	MOVQ  $16, DX
	CMPQ  CX, DX
	CMOVQLT CX, DX
	MOVL  $1, AX
	XCHGQ CX, DX
	SHLL  CX, AX // 1 << DX (the count must be in CL)
	XCHGQ CX, DX
	DECL  AX
	KMOVW AX, K7
	MOVQ  R8, R13
	VMOVDQU32.Z (R13), K7, Z4
	VPTESTMD    Z4, Z4, K7, K1
	ADDQ  R9, R13
	VMOVDQU32.Z (R13), K7, Z4
	VPTESTMD    Z4, Z4, K7, K3
	ADDQ  R9, R13
	VMOVDQU32.Z (R13), K7, Z4
	VPTESTMD    Z4, Z4, K7, K5
	VMOVAPS Z23, Z0
	MOVQ    SI, BX
	MOVQ    w+16(FP), R12
	MOVQ    kh+48(FP), AX

k1row:
	VBROADCASTSS (R12), Z16
	VBROADCASTSS 4(R12), Z17
	VBROADCASTSS 8(R12), Z18
	MOVQ         BX, R11
	VMOVUPS.Z    (R11), K1, Z19
	VMULPS       Z19, Z16, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K3, Z19
	VMULPS       Z19, Z17, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         R10, R11
	VMOVUPS.Z    (R11), K5, Z19
	VMULPS       Z19, Z18, Z19
	VADDPS       Z19, Z0, Z0
	ADDQ         $12, R12
	ADDQ         R14, BX
	DECQ         AX
	JNZ          k1row
	CMPQ         add+72(FP), $0
	JEQ          k1store
	VMOVUPS.Z    (DI), K7, Z19
	VADDPS       Z19, Z0, Z0

k1store:
	VMOVUPS Z0, K7, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	SUBQ    DX, CX
	JMP     k1

kdone:
	VZEROUPPER
	RET

// dwLanes holds 0, 1, …, 15: lane numbers, for dwRows2k512's lane masks.
DATA dwLanes<>+0(SB)/4, $0
DATA dwLanes<>+4(SB)/4, $1
DATA dwLanes<>+8(SB)/4, $2
DATA dwLanes<>+12(SB)/4, $3
DATA dwLanes<>+16(SB)/4, $4
DATA dwLanes<>+20(SB)/4, $5
DATA dwLanes<>+24(SB)/4, $6
DATA dwLanes<>+28(SB)/4, $7
DATA dwLanes<>+32(SB)/4, $8
DATA dwLanes<>+36(SB)/4, $9
DATA dwLanes<>+40(SB)/4, $10
DATA dwLanes<>+44(SB)/4, $11
DATA dwLanes<>+48(SB)/4, $12
DATA dwLanes<>+52(SB)/4, $13
DATA dwLanes<>+56(SB)/4, $14
DATA dwLanes<>+60(SB)/4, $15
GLOBL dwLanes<>(SB), RODATA|NOPTR, $64

// func dwRows2k512(out *float32, src uintptr, w *float32, n, kw, dil, kh, rs, pl, sw int, bias float32)
// A whole output row of a stride-2 depthwise correlation: out[x] = bias + Σᵢ Σⱼ
// w[i·kw+j]·S_i[2x + j·dil − pl], S_i the source row at src + i·rs (sw values), +0 outside it;
// the taps in order, each product rounded before its add (pixel's sums). Each tap loads the 32
// source values of 16 outputs and keeps the even ones (VPERMT2PS). Vectors whose taps all lie
// inside the row load plainly; the others (the row's ends, the last n mod 16) under lane masks
// that read nothing outside the row or past the last output's values.
TEXT ·dwRows2k512(SB), NOSPLIT, $16-84
	MOVQ         out+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+24(FP), CX
	MOVQ         dil+40(FP), R10
	SHLQ         $2, R10
	MOVQ         rs+56(FP), R14
	SHLQ         $2, R14
	VBROADCASTSS bias+80(FP), Z23
	VMOVDQU32    dwLanes<>(SB), Z29
	MOVL         $16, AX
	VPBROADCASTD AX, Z30
	VPADDD       Z29, Z30, Z30        // 16 … 31
	VPADDD       Z29, Z29, Z31        // 0, 2, …, 30
	MOVQ         sw+72(FP), AX
	VPBROADCASTD AX, Z22
	// A vector whose first tap starts at source column c reads plainly when c ≥ 0 and
	// c + (kw−1)·dil + 31 < sw.
	MOVQ         kw+32(FP), R9
	DECQ         R9
	IMULQ        dil+40(FP), R9
	SUBQ         R9, AX
	SUBQ         $31, AX
	MOVQ         AX, fast-8(SP)
	XORQ         R8, R8
	SUBQ         pl+64(FP), R8        // R8: source column of output x, tap 0 (2x − pl)

s5vec:
	TESTQ   CX, CX
	JEQ     s5done
	VMOVAPS Z23, Z0
	MOVQ    w+16(FP), R12
	MOVQ    kh+48(FP), AX
	LEAQ    (SI)(R8*4), BX
	CMPQ    CX, $16
	JLT     s5slow
	TESTQ   R8, R8
	JS      s5slow
	CMPQ    R8, fast-8(SP)
	JGE     s5slow

s5frow:
	MOVQ BX, R11
	MOVQ kw+32(FP), DX

s5ftap:
	VBROADCASTSS (R12), Z2
	VMOVUPS      (R11), Z1
	VMOVUPS      64(R11), Z3
	VPERMT2PS    Z3, Z31, Z1
	VMULPS       Z1, Z2, Z1
	VADDPS       Z1, Z0, Z0
	ADDQ         R10, R11
	ADDQ         $4, R12
	DECQ         DX
	JNZ          s5ftap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          s5frow
	VMOVUPS      Z0, (DI)
	ADDQ         $64, DI
	ADDQ         $32, R8
	SUBQ         $16, CX
	JMP          s5vec

s5slow:
	// r = min(n left, 16) outputs; K3, K4: the source lanes they use (< 2r − 1); K7: r lanes.
	MOVQ         $16, R9
	CMPQ         CX, R9
	CMOVQLT      CX, R9
	LEAQ         -1(R9)(R9*1), R13
	VPBROADCASTD R13, Z21
	VPCMPUD      $1, Z21, Z29, K3
	VPCMPUD      $1, Z21, Z30, K4
	VPBROADCASTD R9, Z21
	VPCMPUD      $1, Z21, Z29, K7

s5srow:
	MOVQ BX, R11
	MOVQ kw+32(FP), DX
	MOVQ R8, R13

s5stap:
	// K1, K2: the lanes whose source column (R13 + lane) is inside the row.
	VPBROADCASTD R13, Z28
	VPADDD       Z29, Z28, Z27
	VPADDD       Z30, Z28, Z26
	VPCMPUD      $1, Z22, Z27, K3, K1
	VPCMPUD      $1, Z22, Z26, K4, K2
	VMOVUPS.Z    (R11), K1, Z1
	VMOVUPS.Z    64(R11), K2, Z3
	VPERMT2PS    Z3, Z31, Z1
	VBROADCASTSS (R12), Z2
	VMULPS       Z1, Z2, Z1
	VADDPS       Z1, Z0, Z0
	ADDQ         R10, R11
	ADDQ         dil+40(FP), R13
	ADDQ         $4, R12
	DECQ         DX
	JNZ          s5stap
	ADDQ         R14, BX
	DECQ         AX
	JNZ          s5srow
	VMOVUPS      Z0, K7, (DI)
	ADDQ         $64, DI
	ADDQ         $32, R8
	SUBQ         R9, CX
	JMP          s5vec

s5done:
	VZEROUPPER
	RET
