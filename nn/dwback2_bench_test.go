package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkDepthwiseBack2 times the input gradient of MobileNetV2's stride-2 depthwise 3×3
// layers on 8 images, with the stride-2 kernel (new) and depthwiseBackRows's own loop (old),
// also per CPU second of the thread (cpu-ns/op), which other load on the machine disturbs less.
// Run it several times to alternate them: go test -run - -bench DepthwiseBack2 -count 1.
func BenchmarkDepthwiseBack2(b *testing.B) {
	const n = 8
	for _, k := range []back2Case{
		{96, 1, 112, 112, 3, 2, 1, 1, []int{1, 1, 1, 1}},
		{144, 1, 56, 56, 3, 2, 1, 1, []int{1, 1, 1, 1}},
		{192, 1, 28, 28, 3, 2, 1, 1, []int{1, 1, 1, 1}},
		{576, 1, 14, 14, 3, 2, 1, 1, []int{1, 1, 1, 1}},
	} {
		r := rand.New(rand.NewPCG(95, 96))
		g := k.layer(b, r, false)
		x := &execCtx{cap: n}
		_, tile := g.padScratch(n)
		x.tile = make([]float32, tile)
		hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
		ldi, ldo := x.ld(hw), x.ld(ohw)
		gout, gin := randVec(r, g.cout*ldo, 1), make([]float32, g.cin*ldi)
		for _, kernel := range []bool{false, true} {
			name := map[bool]string{false: "old", true: "new"}[kernel]
			b.Run(fmt.Sprintf("%dx%d→%d/%s", k.c, k.h, g.out.H, name), func(b *testing.B) {
				if kernel && !back2Kernel() {
					b.Skip("no stride-2 backward kernel on this CPU or build")
				}
				back2Off = !kernel
				defer func() { back2Off = false }()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					g.depthwiseBackRows(x, n, gout, ldo, gin, ldi)
				}
				if cpu := threadCPU() - t0; cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
