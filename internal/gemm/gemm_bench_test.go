package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// benchShapes are the products the engine runs (DenseNet-BC-100 and WRN-28-10 on 32×32 inputs,
// n = images·H·W) plus small ones.
var benchShapes = []struct{ m, k, n int }{
	{48, 24, 1024}, {48, 120, 1024}, {48, 216, 1024}, {48, 216, 4096},
	{12, 432, 1024}, {12, 432, 4096}, {12, 432, 64}, {12, 432, 256},
	{48, 216, 256}, {48, 350, 256}, {48, 350, 64},
	{160, 1440, 1024}, {320, 2880, 256}, {640, 5760, 64}, {640, 5760, 256},
	{3, 108, 1024},
}

func benchMul(b *testing.B, m, k, n int, op *RowOp) {
	rng := rand.New(rand.NewPCG(1, 1))
	pa := Pack(m, k, randSlice(rng, m*k), k)
	bm := randSlice(rng, k*n)
	c := make([]float32, m*n)
	ws := NewWorkspace()
	pa.Mul(c, n, bm, n, n, op, false, ws)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	for b.Loop() {
		pa.Mul(c, n, bm, n, n, op, false, ws)
	}
	reportFlops(b, 2*float64(m)*float64(k)*float64(n), threadCPU()-t0)
}

// reportFlops reports GFLOP/s over wall time and, where the thread's CPU time is known, over
// CPU time (cpu-GFLOP/s), which discounts other processes sharing the core.
func reportFlops(b *testing.B, flopsPerOp float64, cpu time.Duration) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

func BenchmarkMul(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("M%d_K%d_N%d", s.m, s.k, s.n), func(b *testing.B) { benchMul(b, s.m, s.k, s.n, nil) })
	}
}

// BenchmarkMulRowOp measures the fused BatchNorm+ReLU packing of B.
func BenchmarkMulRowOp(b *testing.B) {
	for _, s := range []struct{ m, k, n int }{{48, 216, 1024}, {12, 432, 1024}, {48, 120, 64}} {
		rng := rand.New(rand.NewPCG(2, 2))
		op := &RowOp{Scale: randSlice(rng, s.k), Shift: randSlice(rng, s.k), ReLU: true}
		b.Run(fmt.Sprintf("M%d_K%d_N%d", s.m, s.k, s.n), func(b *testing.B) { benchMul(b, s.m, s.k, s.n, op) })
	}
}

// BenchmarkKernel runs each micro-kernel alone on L1-resident panels: the ceiling for Mul. It
// multiplies four row panels of A (24 rows, 6 KiB at K = 64) by one B panel through kernelRows,
// the call Mul makes for full tiles, so the AVX-512 kernel runs its 24×16 tile.
func BenchmarkKernel(b *testing.B) {
	for _, kern := range []kernelID{kernGo, kernAVX2, kernAVX512} {
		for _, k := range []int{64, 256} {
			b.Run(fmt.Sprintf("%v/K%d", kern, k), func(b *testing.B) {
				if why := whyNot(kern); why != "" {
					b.Skip(why)
				}
				const rows = 4
				rng := rand.New(rand.NewPCG(3, 3))
				ap, bp := randSlice(rng, rows*k*mr), randSlice(rng, k*nr)
				c := make([]float32, rows*mr*nr)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					if !kernelRows(kern, k, ap, k*mr, bp, c, nr, true, rows, false, nil, nil, nil, false) {
						for r := range rows {
							kernel(kern, k, ap[r*k*mr:], bp, c[r*mr*nr:], nr, true)
						}
					}
				}
				reportFlops(b, 2*rows*mr*nr*float64(k), threadCPU()-t0)
			})
		}
	}
}

// BenchmarkMulGrad measures the backward product of DenseNet's bottleneck (C += (A·B) ⊙ op′(X)
// for a 1×1 convolution from 48 channels back to 120 or 216, 8 images of 32×32) against Mul
// storing the product for a separate pass.
func BenchmarkMulGrad(b *testing.B) {
	for _, m := range []int{120, 216} {
		const k, n = 48, 8192
		ld := n + 16
		rng := rand.New(rand.NewPCG(5, 5))
		pa := Pack(m, k, randSlice(rng, m*k), k)
		bm := randSlice(rng, k*ld)
		x := randSlice(rng, m*ld)
		c := make([]float32, m*ld)
		op := &RowOp{Scale: randSlice(rng, m), Shift: randSlice(rng, m), ReLU: true}
		ws := NewWorkspace()
		for _, fused := range []bool{true, false} {
			name := fmt.Sprintf("M%d_K%d_N%d/store", m, k, n)
			if fused {
				name = fmt.Sprintf("M%d_K%d_N%d/fused", m, k, n)
			}
			b.Run(name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					if fused {
						pa.MulGrad(c, ld, bm, ld, n, op, x, ws)
					} else {
						pa.Mul(c, ld, bm, ld, n, nil, false, ws)
					}
				}
				reportFlops(b, 2*float64(m*k*n), threadCPU()-t0)
			})
		}
	}
}

// BenchmarkMulThin measures the products with few rows (M ≤ 24) or few columns of A (K ≤ 32)
// that MobileNetV2's 1×1 convolutions run, on one in-cache column block; nn's
// BenchmarkThin1x1 runs them streaming from memory as the engine does.
func BenchmarkMulThin(b *testing.B) {
	for _, s := range []struct{ m, k, n int }{
		{16, 32, 1024}, {18, 32, 1024}, {24, 32, 1024}, {16, 96, 1024}, {96, 16, 1024}, {12, 432, 1024},
		// Row strides that are no multiple of 4 KiB, as in the engine (n·HW + 16 floats): with
		// ldc = 1024, C's rows all fall in the same L1 sets. The last two keep the panel path.
		{16, 32, 1000}, {16, 96, 1000}, {32, 16, 1000}, {96, 16, 1000}, {144, 24, 1000}, {384, 64, 1000}, {576, 96, 1000},
	} {
		b.Run(fmt.Sprintf("M%d_K%d_N%d", s.m, s.k, s.n), func(b *testing.B) { benchMul(b, s.m, s.k, s.n, nil) })
	}
}
