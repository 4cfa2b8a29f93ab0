//go:build amd64 && !purego

// Max pooling's 3×3 stride-2 row kernels (ResNet's stem), written by hand like the kernels of
// axpy_amd64.s: the compiler does not vectorise, and the scalar loops took 4% of the CPU time
// of `odin bench --nn` on ResNet-50, forward and backward (AMD EPYC Zen 4, 2 cores). Each matches its Go twin in
// pool_rows.go bit for bit (TestMaxPool3s2MatchesGo): VMAXPS with the running maximum as
// second source keeps the earlier of equal values, as the Go loops' v > acc does. Eight
// outputs take the even, odd and shifted even columns of a row, deinterleaved by VSHUFPS in
// an order that one VPERMPD $0xD8 (its own inverse) sets right.

#include "textflag.h"

// POOLROW sets H to the maximum of row R's three taps of outputs SI..SI+7 (in VSHUFPS order)
// and ORs into Y15 where a tap past the row's first value is NaN.
#define POOLROW(R, H) \
	VMOVUPS (R)(SI*8), Y0; \
	VSHUFPS $0x88, 32(R)(SI*8), Y0, H; \
	VSHUFPS $0xDD, 32(R)(SI*8), Y0, Y0; \
	VMOVUPS 8(R)(SI*8), Y1; \
	VSHUFPS $0xD8, 36(R)(SI*8), Y1, Y1; \
	VCMPPS  $3, Y1, Y0, Y2; \
	VORPS   Y2, Y15, Y15; \
	VMAXPS  H, Y0, H; \
	VMAXPS  H, Y1, H

#define POOLBLOCK \
	POOLROW(AX, Y3); \
	POOLROW(BX, Y4); \
	POOLROW(CX, Y5); \
	VMAXPS  Y3, Y4, Y3; \
	VMAXPS  Y3, Y5, Y3; \
	VPERMPD $0xD8, Y3, Y3; \
	VMOVUPS Y3, (DI)(SI*4)

// func maxPool3s2AVX(dst, r0, r1, r2 *float32, n int) (nan bool)
// n ≥ 8.
TEXT ·maxPool3s2AVX(SB), NOSPLIT, $0-41
	MOVQ         dst+0(FP), DI
	MOVQ         r0+8(FP), AX
	MOVQ         r1+16(FP), BX
	MOVQ         r2+24(FP), CX
	MOVQ         n+32(FP), DX
	// The blocks check each row's values from the second on; the first here.
	VBROADCASTSS (AX), Y12
	VBROADCASTSS (BX), Y13
	VBROADCASTSS (CX), Y14
	VCMPPS       $3, Y13, Y12, Y15
	VCMPPS       $3, Y14, Y14, Y14
	VORPS        Y14, Y15, Y15
	MOVQ         DX, R10
	SUBQ         $8, R10
	XORQ         SI, SI

loop:
	CMPQ SI, R10
	JGT  tail
	POOLBLOCK
	ADDQ $8, SI
	JMP  loop

tail:
	CMPQ SI, DX
	JGE  done
	MOVQ R10, SI
	POOLBLOCK

done:
	VPTEST     Y15, Y15
	SETNE      nan+40(FP)
	VZEROUPPER
	RET

// ARGROW blends into Y5 the taps T, T+1, T+2 of row R that equal Y4 (outputs SI..SI+7 in
// VSHUFPS order), the last tap first so that the first match stays.
#define ARGROW(R, T0, T1, T2) \
	VMOVUPS   (R)(SI*8), Y0; \
	VSHUFPS   $0x88, 32(R)(SI*8), Y0, Y1; \
	VSHUFPS   $0xDD, 32(R)(SI*8), Y0, Y0; \
	VMOVUPS   8(R)(SI*8), Y2; \
	VSHUFPS   $0xD8, 36(R)(SI*8), Y2, Y2; \
	VCMPPS    $0, Y4, Y2, Y3; \
	VBLENDVPS Y3, T2, Y5, Y5; \
	VCMPPS    $0, Y4, Y0, Y3; \
	VBLENDVPS Y3, T1, Y5, Y5; \
	VCMPPS    $0, Y4, Y1, Y3; \
	VBLENDVPS Y3, T0, Y5, Y5

#define ARGBLOCK \
	VPERMPD   $0xD8, (R11)(SI*4), Y4; \
	VPCMPEQD  Y5, Y5, Y5; \
	ARGROW(CX, Y12, Y13, Y14); \
	ARGROW(BX, Y9, Y10, Y11); \
	ARGROW(AX, Y6, Y7, Y8); \
	VPERMQ    $0xD8, Y5, Y5; \
	VMOVDQU   Y5, (DI)(SI*4)

// func maxPoolArg3s2AVX(idx *int32, v, r0, r1, r2 *float32, n int)
// n ≥ 8.
TEXT ·maxPoolArg3s2AVX(SB), NOSPLIT, $0-48
	MOVQ         idx+0(FP), DI
	MOVQ         v+8(FP), R11
	MOVQ         r0+16(FP), AX
	MOVQ         r1+24(FP), BX
	MOVQ         r2+32(FP), CX
	MOVQ         n+40(FP), DX
	VPBROADCASTD poolTaps<>+0(SB), Y6
	VPBROADCASTD poolTaps<>+4(SB), Y7
	VPBROADCASTD poolTaps<>+8(SB), Y8
	VPBROADCASTD poolTaps<>+12(SB), Y9
	VPBROADCASTD poolTaps<>+16(SB), Y10
	VPBROADCASTD poolTaps<>+20(SB), Y11
	VPBROADCASTD poolTaps<>+24(SB), Y12
	VPBROADCASTD poolTaps<>+28(SB), Y13
	VPBROADCASTD poolTaps<>+32(SB), Y14
	MOVQ         DX, R10
	SUBQ         $8, R10
	XORQ         SI, SI

argloop:
	CMPQ SI, R10
	JGT  argtail
	ARGBLOCK
	ADDQ $8, SI
	JMP  argloop

argtail:
	CMPQ SI, DX
	JGE  argdone
	MOVQ R10, SI
	ARGBLOCK

argdone:
	VZEROUPPER
	RET

DATA poolTaps<>+0(SB)/4, $0
DATA poolTaps<>+4(SB)/4, $1
DATA poolTaps<>+8(SB)/4, $2
DATA poolTaps<>+12(SB)/4, $3
DATA poolTaps<>+16(SB)/4, $4
DATA poolTaps<>+20(SB)/4, $5
DATA poolTaps<>+24(SB)/4, $6
DATA poolTaps<>+28(SB)/4, $7
DATA poolTaps<>+32(SB)/4, $8
GLOBL poolTaps<>(SB), RODATA|NOPTR, $36
