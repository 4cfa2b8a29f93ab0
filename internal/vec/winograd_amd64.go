//go:build amd64 && !purego

package vec

// hasWinograd says whether the transforms run in assembly; they need AVX2 (VEX-encoded SSE and
// register broadcasts). Fixed at program start.
var hasWinograd = hasAVX2

//go:noescape
func winogradIn4Asm(dst *float32, ds int, src *float32, ps, pw, groups int)

//go:noescape
func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups, units, unit, tile2 int, acc bool)

//go:noescape
func winogradPhases4Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)
