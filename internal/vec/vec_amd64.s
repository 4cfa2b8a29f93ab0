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
