//go:build amd64 && !purego

package vec

// winogradPhasesAsm runs WinogradPhases4's assembly (its caller has checked the slices and
// that w is 8 or a multiple of 16): with AVX-512 (hasWinograd512), rows of 8, 16 or 32 pixels
// go to winogradPhases16Asm, which splits each row into its phases by permutes in ZMM
// registers, the others to winogradPhases4Asm. The choice is made in assembly, so that this
// costs one call, not two.
//
//go:noescape
func winogradPhasesAsm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)

//go:noescape
func winogradPhases16Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)

// winogradPhasesWide is winogradPhasesAsm with the AVX-512 code on when wide, for tests.
func winogradPhasesWide(wide bool, base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool) {
	if wide && (w == 8 || w == 16 || w == 32) {
		winogradPhases16Asm(base, ps, tw, phase, src, w, rows, s, t, relu)
		return
	}
	winogradPhases4Asm(base, ps, tw, phase, src, w, rows, s, t, relu)
}
