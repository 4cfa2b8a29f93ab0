//go:build !amd64 || purego

package vec

func cpuHasAVX512() bool { return false }

func winogradIn16Asm(dst *float32, ds int, src *float32, ps, pw, blocks int) {}

func winogradOut16Only(dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
}
