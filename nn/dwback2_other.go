//go:build !amd64 || purego

package nn

// back2Kernel reports false: this build has no stride-2 backward kernel.
func back2Kernel() bool { return false }

// depthwiseBack2 reports false: depthwiseBackRows runs its own loop.
func (g *gconv) depthwiseBack2(n int, gout []float32, ldo int, gin []float32, ldi int) bool {
	return false
}
