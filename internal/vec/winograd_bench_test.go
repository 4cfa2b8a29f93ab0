package vec

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// loop runs f b.N times on a locked thread and reports CPU nanoseconds per unit.
func loop(b *testing.B, units int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N*units), "cpu-ns/tile")
}

// Transforms of one channel of a 32×32 plane: 64 tiles in 16 groups of four. The metric is CPU
// time per tile.
func BenchmarkWinogradIn4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const th, tw = 8, 8
	ps := (th + 1) * tw
	src := randSlice(r, 24*ps)
	const ds = 48*64 + 16
	dst := make([]float32, 36*ds)
	loop(b, th*tw, func() {
		WinogradIn4(dst, ds, src, ps, tw, th*tw/4)
	})
}

func BenchmarkWinogradOut4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const th, tw = 8, 8
	const ms = 12*64 + 16
	src := randSlice(r, 36*ms)
	dst := make([]float32, 32*32)
	loop(b, th*tw, func() {
		WinogradOut4(dst, 32, src, ms, tw/4, th, 4*32, 8, false)
	})
}

func BenchmarkWinogradPhases4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const th, tw = 8, 8
	ps := (th + 1) * tw
	src := randSlice(r, 32*32)
	p := make([]float32, 24*ps)
	loop(b, th*tw, func() {
		WinogradPhases4(p, ps, src, 32, 0, 32, 0.5, 0.1, true)
	})
}
