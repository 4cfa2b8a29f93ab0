//go:build amd64 && !purego

package nn

// maxPool3s2AVX is maxPool3s2Go for n ≥ 8 outputs, eight at a time (the last eight again when n
// is not a multiple of 8). It reads r0, r1, r2 [0 : 2n+1].
//
//go:noescape
func maxPool3s2AVX(dst, r0, r1, r2 *float32, n int) (nan bool)

// maxPoolArg3s2AVX is maxPoolArg3s2Go for n ≥ 8 outputs, like maxPool3s2AVX.
//
//go:noescape
func maxPoolArg3s2AVX(idx *int32, v, r0, r1, r2 *float32, n int)

// maxPool3s2 is maxPool3s2Go, in AVX2 where the CPU has it.
func maxPool3s2(dst, r0, r1, r2 []float32) bool {
	n := len(dst)
	if !hasAVX2 || n < 8 {
		return maxPool3s2Go(dst, r0, r1, r2)
	}
	_, _, _ = r0[2*n], r1[2*n], r2[2*n]
	return maxPool3s2AVX(&dst[0], &r0[0], &r1[0], &r2[0], n)
}

// maxPoolArg3s2 is maxPoolArg3s2Go, in AVX2 where the CPU has it.
func maxPoolArg3s2(idx []int32, v, r0, r1, r2 []float32) {
	n := len(idx)
	if !hasAVX2 || n < 8 {
		maxPoolArg3s2Go(idx, v, r0, r1, r2)
		return
	}
	_, _, _, _ = v[n-1], r0[2*n], r1[2*n], r2[2*n]
	maxPoolArg3s2AVX(&idx[0], &v[0], &r0[0], &r1[0], &r2[0], n)
}
