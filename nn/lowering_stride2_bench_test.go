package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkStride2Lowering lowers one image for a stride-2 convolution (im2col) and adds a
// lowered gradient back (col2im): ResNet's 7×7 pad-3 stem on 3×224×224 (rows of 112) and a
// ResNet-50 layer2 3×3 pad-1 convolution on 128×56×56 (rows of 28). "old" is the
// element-by-element loops that ran before vec.Gather2Rows and vec.AddScatter2Rows
// (im2colScalar, col2imScalar). The metric is CPU microseconds per image.
func BenchmarkStride2Lowering(b *testing.B) {
	for _, l := range []struct {
		name       string
		c, h, k, p int
	}{{"stem", 3, 224, 7, 3}, {"3x3-56", 128, 56, 3, 1}} {
		o := (l.h+2*l.p-l.k)/2 + 1
		g := lowerGeom{kh: l.k, kw: l.k, y: axis{l.h, o, 2, 1, l.p}, x: axis{l.h, o, 2, 1, l.p}}
		r := rand.New(rand.NewPCG(1, 2))
		hw, cols := l.h*l.h, o*o
		src := randVec(r, l.c*hw, 1)
		col := randVec(r, l.c*l.k*l.k*cols, 1)
		dst := make([]float32, l.c*hw)
		run := func(name string, f func()) {
			b.Run(l.name+"/"+name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					f()
				}
				b.ReportMetric(float64((threadCPU()-t0).Microseconds())/float64(b.N), "cpu-µs/img")
			})
		}
		run("im2col/old", func() { im2colScalar(g, col, cols, src, hw, 0, l.c, 0, 1, 0, o) })
		run("im2col/new", func() { g.im2col(col, cols, src, hw, 0, l.c, 0, 1, 0, o, nil) })
		run("col2im/old", func() { col2imScalar(g, dst, hw, 0, l.c, 0, 1, 0, o, col, cols) })
		run("col2im/new", func() { g.col2im(dst, hw, 0, l.c, 0, 1, 0, o, col, cols) })
	}
}
