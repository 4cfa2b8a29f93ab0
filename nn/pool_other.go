//go:build !amd64 || purego

package nn

// maxPool3s2 is maxPool3s2Go: this build has no vector kernel.
func maxPool3s2(dst, r0, r1, r2 []float32) bool { return maxPool3s2Go(dst, r0, r1, r2) }

// maxPoolArg3s2 is maxPoolArg3s2Go: this build has no vector kernel.
func maxPoolArg3s2(idx []int32, v, r0, r1, r2 []float32) { maxPoolArg3s2Go(idx, v, r0, r1, r2) }
