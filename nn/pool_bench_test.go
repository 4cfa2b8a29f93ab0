package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkMaxPoolStem times ResNet's stem pooling (3×3, stride 2, pad 1, 64 channels of
// 112×112, 8 images) on one thread, forward and backward, for the current code ("new") and the
// scalar code it replaced ("old": maxPool.plane, and refMaxPoolBackward in maxpool_test.go).
// Each also reports its thread's CPU time per pass (cpu-µs/op), steadier than wall time when
// other work shares the machine. The input is ReLU's of Gaussian noise, half of it +0; its
// 26 MB do not fit in cache, as in a ResNet. BenchmarkMaxPoolStemCached times data that do.
func BenchmarkMaxPoolStem(b *testing.B) { benchMaxPoolStem(b, 8, 64) }

// BenchmarkMaxPoolStemCached is BenchmarkMaxPoolStem on 4 channels of one image (200 KB).
func BenchmarkMaxPoolStemCached(b *testing.B) { benchMaxPoolStem(b, 1, 4) }

func benchMaxPoolStem(b *testing.B, n, ch int) {
	bl := NewBuilder(Shape{ch, 112, 112})
	win, ok := bl.window("maxpool", bl.Input(), Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}})
	if !ok {
		b.Fatal("window")
	}
	m := newMaxPool(win)
	e := execCtx{cap: n}
	hw, ohw := m.in.H*m.in.W, m.out.H*m.out.W
	r := rand.New(rand.NewPCG(37, 38))
	x := randVec(r, m.in.C*e.ld(hw), 1)
	for i := range x {
		x[i] = max(x[i], 0)
	}
	in := [][]float32{x}
	out := make([]float32, m.in.C*e.ld(ohw))
	gout := randVec(r, len(out), 1)
	gin := [][]float32{make([]float32, len(x))}
	oldForward := func() {
		ldi, ldo := e.ld(hw), e.ld(ohw)
		for c := range m.in.C {
			for i := range n {
				m.plane(out[c*ldo+i*ohw:c*ldo+(i+1)*ohw], x[c*ldi+i*hw:c*ldi+(i+1)*hw])
			}
		}
	}
	m.forward(&e, n, in, out)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"forward/old", oldForward},
		{"forward/new", func() { m.forward(&e, n, in, out) }},
		{"backward/old", func() { refMaxPoolBackward(m, &e, n, in, out, gout, gin) }},
		{"backward/new", func() { m.backward(&e, n, in, out, gout, gin) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for b.Loop() {
				c.f()
			}
			b.ReportMetric(float64((threadCPU()-t0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
		})
	}
}
