package nn

// The row kernels of 3×3 stride-2 max pooling (ResNet's stem). Both scan a window's nine taps
// in row-major order, rows r0, r1, r2 and within a row columns 2i, 2i+1, 2i+2, so that they find
// the first maximum as maxPool.argmax does; a window with fewer rows passes its first row twice,
// which changes neither the first maximum nor the first match. The assembly in pool_amd64.s
// computes exactly these loops (tests compare them bit for bit). Without it maxPool keeps its
// scalar plane, faster than these branching loops; tests run them on every build.

// gtMax is v if v > acc, else acc: VMAXPS with acc as its second source, which keeps the earlier
// of equal values (the sign of the first zero) and keeps acc when either is NaN.
func gtMax(v, acc float32) float32 {
	if v > acc {
		return v
	}
	return acc
}

// maxPool3s2Go sets dst[i] to the first maximum of the window r0, r1, r2 [2i : 2i+3] in
// row-major order, each row's maximum first and then the rows', and reports whether any of
// r0, r1, r2 [0 : 2·len(dst)+1] is NaN: only then can dst differ from argmax's pixel.
func maxPool3s2Go(dst, r0, r1, r2 []float32) bool {
	n := len(dst)
	if n == 0 {
		return false
	}
	r0, r1, r2 = r0[:2*n+1], r1[:2*n+1], r2[:2*n+1]
	nan := false
	row := func(r []float32, i int) float32 {
		a, b, c := r[2*i], r[2*i+1], r[2*i+2]
		nan = nan || a != a || b != b || c != c
		return gtMax(c, gtMax(b, a))
	}
	for i := range dst {
		h0, h1, h2 := row(r0, i), row(r1, i), row(r2, i)
		dst[i] = gtMax(h2, gtMax(h1, h0))
	}
	return nan
}

// maxPoolArg3s2Go sets idx[i] to the first tap t = 3·row + column of window r0, r1, r2
// [2i : 2i+3] in row-major order that equals v[i], or to −1 if none does (v[i] NaN, for one).
func maxPoolArg3s2Go(idx []int32, v, r0, r1, r2 []float32) {
	n := len(idx)
	if n == 0 {
		return
	}
	v = v[:n]
	rows := [3][]float32{r0[:2*n+1], r1[:2*n+1], r2[:2*n+1]}
	for i := range idx {
		t := int32(-1)
	find:
		for y, r := range rows {
			for x := range 3 {
				if r[2*i+x] == v[i] {
					t = int32(3*y + x)
					break find
				}
			}
		}
		idx[i] = t
	}
}
