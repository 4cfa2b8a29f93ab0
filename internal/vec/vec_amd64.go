//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// bulk is how many leading elements the assembly handles: whole groups of eight.
func bulk(n int) int {
	if !hasAVX2 {
		return 0
	}
	return n &^ 7
}

//go:noescape
func scaleShiftAVX(dst, src *float32, n int, s, t float32, relu bool)

//go:noescape
func bnGradAVX(d, grad, x *float32, n int, s, t float32, relu bool)

func scaleShiftAsm(dst, src []float32, s, t float32, relu bool) {
	scaleShiftAVX(&dst[0], &src[0], len(src), s, t, relu)
}

func bnGradAsm(d, g, x []float32, s, t float32, relu bool) {
	bnGradAVX(&d[0], &g[0], &x[0], len(d), s, t, relu)
}

// pool2AVX is Pool2 for w a multiple of 16, oh ≥ 1 output rows.
//
//go:noescape
func pool2AVX(dst, src *float32, w, oh int)

// unpool2AVX is Unpool2 for w a multiple of 16, oh ≥ 1 gradient rows.
//
//go:noescape
func unpool2AVX(dst, grad *float32, w, oh int, acc bool)

//go:noescape
func bnGradInPlaceAVX(d, x *float32, n int, s, t float32, relu bool)

func bnGradInPlaceAsm(d, x []float32, s, t float32, relu bool) {
	bnGradInPlaceAVX(&d[0], &x[0], len(d), s, t, relu)
}
