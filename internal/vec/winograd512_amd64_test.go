//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

func cpuHasAVX512() bool { return cpu.X86.HasAVX512F }

// winogradOut16Only is winogradOutAsm with the sixteen-tile code on, whatever ODIN_KERNEL says.
func winogradOut16Only(dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
	winogradOutBlocks(true, dst, ld, src, ms, groups, units, unit, tile2, acc)
}
