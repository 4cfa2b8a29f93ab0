// Package vec holds the elementwise loops of the engine that matter for speed: inference batch
// normalisation with ReLU, its input gradient, and sums. On amd64 with AVX2 they run eight lanes
// at a time; elsewhere, or with the build tag purego, in Go. Both compute each element with the
// same roundings (a multiply, then an add; never fused), so results are bit-identical.
//
// The Winograd transforms (winograd.go) run four tiles per XMM register on amd64; where the CPU
// has AVX-512 F the input transform runs sixteen tiles per ZMM register, with the same
// operations per lane and so the same bits, unless ODIN_KERNEL (see gemm.KernelEnv) names a
// kernel other than avx512.
//
// The stride-2 moves of lowered convolutions and of Winograd F(2×2)'s padded rows (stride2.go)
// copy bits and add with Go's +=, so they too give the Go versions' bits.
package vec

// ScaleShift writes dst[i] = src[i]·s + t, then max(·, 0) if relu. len(dst) must be >= len(src).
func ScaleShift(dst, src []float32, s, t float32, relu bool) {
	dst = dst[:len(src)]
	n := bulk(len(src))
	if n > 0 {
		scaleShiftAsm(dst[:n], src[:n], s, t, relu)
	}
	scaleShiftGo(dst[n:], src[n:], s, t, relu)
}

// BNGrad adds the input gradient of y = x·s + t (followed by ReLU if relu) to d:
// d[i] += g[i]·s, where x[i]·s + t > 0 when relu. d, g and x have equal lengths.
func BNGrad(d, g, x []float32, s, t float32, relu bool) {
	g = g[:len(d)]
	x = x[:len(d)]
	n := bulk(len(d))
	if n > 0 {
		bnGradAsm(d[:n], g[:n], x[:n], s, t, relu)
	}
	bnGradGo(d[n:], g[n:], x[n:], s, t, relu)
}

// BNGradInPlace turns d, the gradient of y = x·s + t (followed by ReLU if relu), into the
// gradient of x: d[i] = d[i]·s where x[i]·s + t > 0 when relu, else 0. d and x have equal
// lengths. It is BNGrad into a zeroed gradient, without the zeroing and the second buffer.
func BNGradInPlace(d, x []float32, s, t float32, relu bool) {
	x = x[:len(d)]
	n := bulk(len(d))
	if n > 0 {
		bnGradInPlaceAsm(d[:n], x[:n], s, t, relu)
	}
	bnGradInPlaceGo(d[n:], x[n:], s, t, relu)
}

func bnGradInPlaceGo(d, x []float32, s, t float32, relu bool) {
	for i, v := range d {
		if relu && !(x[i]*s+t > 0) {
			d[i] = 0
			continue
		}
		d[i] = v * s
	}
}

// Add adds src to dst elementwise. len(dst) must be >= len(src).
func Add(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

func scaleShiftGo(dst, src []float32, s, t float32, relu bool) {
	if relu {
		for i, v := range src {
			// Written as the assembly's max(y, 0) behaves: 0 unless y > 0.
			y := v*s + t
			if !(y > 0) {
				y = 0
			}
			dst[i] = y
		}
		return
	}
	for i, v := range src {
		dst[i] = v*s + t
	}
}

func bnGradGo(d, g, x []float32, s, t float32, relu bool) {
	if relu {
		for i, v := range x {
			if v*s+t > 0 {
				d[i] += g[i] * s
			}
		}
		return
	}
	for i, gv := range g {
		d[i] += gv * s
	}
}
