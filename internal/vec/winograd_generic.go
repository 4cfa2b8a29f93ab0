//go:build !amd64 || purego

package vec

const hasWinograd = false

func winogradIn4Asm(dst *float32, ds int, src *float32, ps, pw, groups int) {}

func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups, units, unit, tile2 int, acc bool) {
}

func winogradPhases4Asm(base *float32, ps, tw, phase int, src *float32, w, rows int, s, t float32, relu bool) {
}

func winogradInAsm(dst []float32, ds int, src []float32, ps, pw, groups int) {}

func winogradOutAsm(dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
}
