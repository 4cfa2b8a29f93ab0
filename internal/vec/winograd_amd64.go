//go:build amd64 && !purego

package vec

// hasWinograd says whether the transforms run in assembly; they need AVX2 (VEX-encoded SSE and
// register broadcasts). Fixed at program start.
var hasWinograd = hasAVX2

//go:noescape
func winogradIn4Asm(dst *float32, ds int, src *float32, off *int, groups int)

//go:noescape
func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups int, acc bool)

//go:noescape
func splitPhases4Asm(d0, d1, d2, d3, src *float32, n int, s, t float32, relu bool)
