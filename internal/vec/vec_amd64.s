//go:build amd64 && !purego

#include "textflag.h"

// func scaleShiftAVX(dst, src *float32, n int, s, t float32, relu bool)
// n is a positive multiple of 8.
TEXT ·scaleShiftAVX(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS s+24(FP), Y1
	VBROADCASTSS t+28(FP), Y2
	VXORPS       Y3, Y3, Y3
	MOVBLZX      relu+32(FP), AX
	TESTQ        AX, AX
	JEQ          plain

rloop:
	VMULPS  (SI), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMAXPS  Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     rloop
	VZEROUPPER
	RET

plain:
	VMULPS  (SI), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     plain
	VZEROUPPER
	RET

// func bnGradAVX(d, grad, x *float32, n int, s, t float32, relu bool)
// d[i] += g[i]*s where x[i]*s+t > 0 (or everywhere without relu). n is a positive multiple of 8.
TEXT ·bnGradAVX(SB), NOSPLIT, $0-41
	MOVQ         d+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS s+32(FP), Y1
	VBROADCASTSS t+36(FP), Y2
	VXORPS       Y3, Y3, Y3
	MOVBLZX      relu+40(FP), AX
	TESTQ        AX, AX
	JEQ          gplain

gloop:
	VMULPS  (DX), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VCMPPS    $0x0e, Y3, Y0, Y0 // y > 0 (GT_OS)
	VMOVUPS   (DI), Y5
	VMULPS    (SI), Y1, Y4
	VADDPS    Y5, Y4, Y4
	VBLENDVPS Y0, Y4, Y5, Y5 // d+g·s where y > 0, else d unchanged
	VMOVUPS   Y5, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     gloop
	VZEROUPPER
	RET

gplain:
	VMULPS  (SI), Y1, Y4
	VADDPS  (DI), Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     gplain
	VZEROUPPER
	RET

// func pool2AVX(dst, src *float32, w, oh int)
// Eight outputs at a time: the two rows are added, then adjacent columns (VHADDPS), which
// leaves the two halves' sums interleaved by 64-bit pairs; VPERMPD puts them in order.
TEXT ·pool2AVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         w+16(FP), DX
	MOVQ         oh+24(FP), R8
	SHLQ         $2, DX
	MOVL         $0x3e800000, AX // 0.25
	MOVQ         AX, X15
	VBROADCASTSS X15, Y15

prow:
	MOVQ SI, BX
	LEAQ (SI)(DX*1), R9
	MOVQ DX, CX
	SHRQ $6, CX

pgroup:
	VMOVUPS  (BX), Y0
	VMOVUPS  32(BX), Y1
	VADDPS   (R9), Y0, Y0
	VADDPS   32(R9), Y1, Y1
	VHADDPS  Y1, Y0, Y0
	VPERMPD  $0xD8, Y0, Y0
	VMULPS   Y15, Y0, Y0
	VMOVUPS  Y0, (DI)
	ADDQ     $64, BX
	ADDQ     $64, R9
	ADDQ     $32, DI
	DECQ     CX
	JNE      pgroup
	LEAQ     (SI)(DX*2), SI
	DECQ     R8
	JNE      prow
	VZEROUPPER
	RET

// func unpool2AVX(dst, grad *float32, w, oh int, acc bool)
TEXT ·unpool2AVX(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         w+16(FP), DX
	MOVQ         oh+24(FP), R8
	MOVBQZX      acc+32(FP), R10
	SHLQ         $2, DX
	MOVL         $0x3e800000, AX // 0.25
	MOVQ         AX, X15
	VBROADCASTSS X15, Y15

urow:
	MOVQ DI, BX
	LEAQ (DI)(DX*1), R9
	MOVQ DX, CX
	SHRQ $6, CX

ugroup:
	VMOVUPS    (SI), Y0
	VMULPS     Y15, Y0, Y0
	VUNPCKLPS  Y0, Y0, Y1
	VUNPCKHPS  Y0, Y0, Y2
	VPERM2F128 $0x20, Y2, Y1, Y3
	VPERM2F128 $0x31, Y2, Y1, Y4
	TESTQ      R10, R10
	JEQ        ustore
	VADDPS     (BX), Y3, Y5
	VADDPS     32(BX), Y4, Y6
	VMOVUPS    Y5, (BX)
	VMOVUPS    Y6, 32(BX)
	VADDPS     (R9), Y3, Y5
	VADDPS     32(R9), Y4, Y6
	VMOVUPS    Y5, (R9)
	VMOVUPS    Y6, 32(R9)
	JMP        unext

ustore:
	VMOVUPS Y3, (BX)
	VMOVUPS Y4, 32(BX)
	VMOVUPS Y3, (R9)
	VMOVUPS Y4, 32(R9)

unext:
	ADDQ $32, SI
	ADDQ $64, BX
	ADDQ $64, R9
	DECQ CX
	JNE  ugroup
	LEAQ (DI)(DX*2), DI
	DECQ R8
	JNE  urow
	VZEROUPPER
	RET

// func bnGradInPlaceAVX(d, x *float32, n int, s, t float32, relu bool)
// d[i] = d[i]*s where x[i]*s+t > 0 (everywhere without relu), else +0. n is a positive
// multiple of 8.
TEXT ·bnGradInPlaceAVX(SB), NOSPLIT, $0-33
	MOVQ         d+0(FP), DI
	MOVQ         x+8(FP), DX
	MOVQ         n+16(FP), CX
	VBROADCASTSS s+24(FP), Y1
	VBROADCASTSS t+28(FP), Y2
	VXORPS       Y3, Y3, Y3
	MOVBLZX      relu+32(FP), AX
	TESTQ        AX, AX
	JEQ          iplain

iloop:
	VMULPS  (DX), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VCMPPS  $0x0e, Y3, Y0, Y0 // y > 0 (GT_OS)
	VMULPS  (DI), Y1, Y4
	VANDPS  Y0, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     iloop
	VZEROUPPER
	RET

iplain:
	VMULPS  (DI), Y1, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     iplain
	VZEROUPPER
	RET
