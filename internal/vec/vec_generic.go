//go:build !amd64 || purego

package vec

func bulk(int) int { return 0 }

func scaleShiftAsm(dst, src []float32, s, t float32, relu bool) {}

func bnGradAsm(d, g, x []float32, s, t float32, relu bool) {}
