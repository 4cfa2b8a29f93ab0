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
