package vec

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// The stride-2 moves on one 224-float row (the row length the task names; a ResNet stem row has
// 112 outputs) and on a 56-pixel Winograd row, against the scalar loops they replaced (kept
// here as the reference), and Gather2Rows on the 28 rows of 28 outputs of one tap of a 3×3
// stride-2 convolution on a 56×56 plane against a call of the old loop per row. The metric is
// CPU time per output element.

// gather2Scalar is im2col's loop before Gather2: the stride is a variable there.
//
//go:noinline
func gather2Scalar(d, line []float32, ix, sx int) {
	for ox := range d {
		d[ox] = line[ix]
		ix += sx
	}
}

// addScatter2Scalar is col2im's loop before AddScatter2.
//
//go:noinline
func addScatter2Scalar(line, src []float32, ix, sx int) {
	for ox := range src {
		line[ix] += src[ox]
		ix += sx
	}
}

// deinterleaveScalar is winograd2.pad's loop before Deinterleave.
//
//go:noinline
func deinterleaveScalar(ev, od, line []float32) {
	for i := 0; 2*i < len(line); i++ {
		od[i] = line[2*i]
		if 2*i+1 < len(line) {
			ev[i+1] = line[2*i+1]
		}
	}
}

func perElem(b *testing.B, n int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N*n), "cpu-ns/elem")
}

func BenchmarkGather2(b *testing.B) {
	const n = 224
	src := randSlice(rand.New(rand.NewPCG(1, 2)), 2*n-1)
	dst := make([]float32, n)
	b.Run("old", func(b *testing.B) { perElem(b, n, func() { gather2Scalar(dst, src, 0, 2) }) })
	b.Run("new", func(b *testing.B) { perElem(b, n, func() { Gather2(dst, src) }) })
}

func BenchmarkGather2Rows(b *testing.B) {
	const w, n = 56, 28
	src := randSlice(rand.New(rand.NewPCG(1, 2)), 2*w*n)
	dst := make([]float32, n*n)
	b.Run("old", func(b *testing.B) {
		perElem(b, n*n, func() {
			for r := range n {
				gather2Scalar(dst[r*n:(r+1)*n], src[2*r*w:], 0, 2)
			}
		})
	})
	b.Run("new", func(b *testing.B) { perElem(b, n*n, func() { Gather2Rows(dst, n, src, 2*w, n, n) }) })
}

func BenchmarkAddScatter2(b *testing.B) {
	const n = 224
	src := randSlice(rand.New(rand.NewPCG(1, 2)), n)
	dst := make([]float32, 2*n-1)
	b.Run("old", func(b *testing.B) { perElem(b, n, func() { addScatter2Scalar(dst, src, 0, 2) }) })
	b.Run("new", func(b *testing.B) { perElem(b, n, func() { AddScatter2(dst, src) }) })
}

func BenchmarkDeinterleave56(b *testing.B) {
	const w = 56
	src := randSlice(rand.New(rand.NewPCG(1, 2)), w)
	row := make([]float32, 2*(w/2+1))
	ev, od := row[:w/2+1], row[w/2+1:]
	b.Run("old", func(b *testing.B) { perElem(b, w, func() { deinterleaveScalar(ev, od, src) }) })
	b.Run("new", func(b *testing.B) { perElem(b, w, func() { Deinterleave(od, ev[1:], src) }) })
}
