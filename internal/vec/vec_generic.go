//go:build !amd64 || purego

package vec

func bulk(int) int { return 0 }

func scaleShiftAsm(dst, src []float32, s, t float32, relu bool) {}

func bnGradAsm(d, g, x []float32, s, t float32, relu bool) {}

var hasAVX2 = false

func pool2AVX(dst, src *float32, w, oh int) {}

func unpool2AVX(dst, g *float32, w, oh int, acc bool) {}

func bnGradInPlaceAsm(d, x []float32, s, t float32, relu bool) {}
