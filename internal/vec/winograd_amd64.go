//go:build amd64 && !purego

package vec

import (
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// hasWinograd says whether the transforms run in assembly; they need AVX2 (VEX-encoded SSE and
// register broadcasts). Fixed at program start.
var hasWinograd = hasAVX2

//go:noescape
func winogradIn4Asm(dst *float32, ds int, src *float32, ps, pw, groups int)

//go:noescape
func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups, units, unit, tile2 int, acc bool)

//go:noescape
func winogradPhases4Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool)

// hasWinograd512 says whether the input transform runs sixteen tiles at a time in ZMM registers
// (AVX-512 F). ODIN_KERNEL (gemm.KernelEnv) naming another kernel turns it off, so that A/B runs
// compare whole builds of the engine; either way the bits are the same. Fixed at program start.
var hasWinograd512 = hasWinograd && cpu.X86.HasAVX512F && wideAllowed(os.Getenv("ODIN_KERNEL"))

func wideAllowed(env string) bool {
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "", "avx512", "avx-512":
		return true
	}
	return false
}

//go:noescape
func winogradIn16Asm(dst *float32, ds int, src *float32, ps, pw, blocks int)

// winogradInAsm runs WinogradIn4's assembly: sixteen tiles at a time where it can, then four.
func winogradInAsm(dst []float32, ds int, src []float32, ps, pw, groups int) {
	if blocks := groups / 4; hasWinograd512 && blocks > 0 {
		winogradIn16Asm(&dst[0], ds, &src[0], ps, pw, blocks)
		if groups%4 == 0 {
			return
		}
		dst, src, groups = dst[16*blocks:], src[16*blocks:], groups%4
	}
	winogradIn4Asm(&dst[0], ds, &src[0], ps, pw, groups)
}

//go:noescape
func winogradOut16Asm(d0, d1, d2, d3 *float32, ld int, src *float32, ms, tile2 int, acc bool)

// winogradOutAsm runs WinogradOut4's assembly (its caller has checked the slices): with
// AVX-512, sixteen tiles (four groups, which may straddle units) at a time, each group with
// its own destination, then the groups left over one at a time.
func winogradOutAsm(dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
	winogradOutBlocks(hasWinograd512, dst, ld, src, ms, groups, units, unit, tile2, acc)
}

// winogradOutBlocks is winogradOutAsm with the sixteen-tile code on when wide.
func winogradOutBlocks(wide bool, dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
	if !wide || groups*units < 4 {
		winogradOut4Asm(&dst[0], ld, &src[0], ms, groups, units, unit, tile2, acc)
		return
	}
	at := func(q int) *float32 { return &dst[q/groups*unit+q%groups*16] }
	n := groups * units
	q := 0
	for ; q+4 <= n; q += 4 {
		winogradOut16Asm(at(q), at(q+1), at(q+2), at(q+3), ld, &src[4*q], ms, tile2, acc)
	}
	for ; q < n; q++ {
		winogradOut4Asm(at(q), ld, &src[4*q], ms, 1, 1, unit, tile2, acc)
	}
}
