//go:build !amd64 || purego

package vec

const hasWinograd = false

func winogradIn4Asm(dst *float32, ds int, src *float32, off *int, groups int) {}

func winogradOut4Asm(dst *float32, ld int, src *float32, ms int, groups int, acc bool) {}

func splitPhases4Asm(d0, d1, d2, d3, src *float32, n int, s, t float32, relu bool) {}
