//go:build amd64 && !purego

package vec

import "testing"

// asmPhases is WinogradPhases4 on the assembly path, AVX-512 code on when wide (the caller
// checks the CPU).
func asmPhases(wide bool) phasesFunc {
	return func(p []float32, ps int, src []float32, w, y0, rows int, s, t float32, relu bool) {
		if w%16 != 0 && w != 8 {
			winogradPhases4Go(p, ps, src, w, y0, rows, s, t, relu)
			return
		}
		tw := w / 4
		y := y0 + 1
		winogradPhasesWide(wide, &p[y%4*6*ps+y/4*tw], ps, tw, y%4, &src[0], w, rows, s, t, relu)
	}
}

// TestWinogradPhasesAVX2 checks the AVX2 code bit for bit against Go, whatever the CPU.
func TestWinogradPhasesAVX2(t *testing.T) {
	if !hasWinograd {
		t.Skip("no AVX2")
	}
	checkPhases(t, asmPhases(false))
}

// TestWinogradPhasesAVX512 checks the AVX-512 code bit for bit against Go, whatever
// ODIN_KERNEL says, wherever the CPU has AVX-512.
func TestWinogradPhasesAVX512(t *testing.T) {
	if !hasWinograd || !cpuHasAVX512() {
		t.Skip("no AVX-512")
	}
	checkPhases(t, asmPhases(true))
}
