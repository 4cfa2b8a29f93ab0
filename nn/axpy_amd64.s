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
