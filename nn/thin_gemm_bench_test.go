package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/odin-ood/odin/internal/gemm"
)

// BenchmarkThin1x1 runs MobileNetV2's thin 1×1 convolution products at 112×112 as the engine
// runs them, batch 8 (n = 8·112·112 columns): in the engine's huge-page buffers (hugeFloats),
// with its row stride, and in its calls. B and C are far larger than the caches, so this
// measures the products streaming from memory, unlike gemm's in-cache benchmarks.
//
//   - fw_M16_K32: step 2's projection 32→16 (no epilogue, so one call);
//   - fw_M96_K16: step 3's expansion 16→96 + clamp, in epilogueCols(96) column blocks (the
//     epilogue itself is left out);
//   - bw_M16_K96: step 3's input gradient 96→16, one call accumulating into C.
func BenchmarkThin1x1(b *testing.B) {
	const n = 8 * 112 * 112
	ld := n + rowPad
	for _, s := range []struct {
		name   string
		m, k   int
		blocks bool
		acc    bool
	}{
		{"fw_M16_K32", 16, 32, false, false},
		{"fw_M96_K16", 96, 16, true, false},
		{"bw_M16_K96", 16, 96, false, true},
	} {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 7))
			pa := gemm.Pack(s.m, s.k, randVec(r, s.m*s.k, 1), s.k)
			bm := hugeFloats(s.k * ld)
			copy(bm, randVec(r, len(bm), 1))
			c := hugeFloats(s.m * ld)
			ws := gemm.NewWorkspace()
			cols := n
			if s.blocks {
				cols = epilogueCols(s.m)
			}
			run := func() {
				for j0 := 0; j0 < n; j0 += cols {
					pa.Mul(c[j0:], ld, bm[j0:], ld, min(cols, n-j0), nil, s.acc, ws)
				}
			}
			run()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for b.Loop() {
				run()
			}
			cpu := threadCPU() - t0
			flops := 2 * float64(s.m*s.k*n) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu > 0 {
				b.ReportMetric(flops/cpu.Seconds()/1e9, "cpu-GFLOP/s")
				b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
