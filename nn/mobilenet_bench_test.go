package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// mobileNetV2 builds MobileNetV2 (Sandler et al. 2018) at side×side as an ONNX import yields it:
// batch norms folded into biased convolutions, ReLU6 as Clip, random weights.
func mobileNetV2(tb testing.TB, side int) *Graph {
	r := rand.New(rand.NewPCG(41, 42))
	b := NewBuilder(Shape{3, side, side})
	conv := func(x Value, out, k, stride, groups int) Value {
		in := b.Shape(x).C
		return b.Conv2d("c", x, Conv{Out: out, KH: k, KW: k, Stride: stride, Pad: k / 2, Groups: groups,
			Weight: randVec(r, out*in/groups*k*k, 0.3), Bias: randVec(r, out, 0.1)})
	}
	x := b.Clip(conv(b.Input(), 32, 3, 2, 1), 0, 6)
	for _, s := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		t, c, n, stride := s[0], s[1], s[2], s[3]
		for i := range n {
			st := stride
			if i > 0 {
				st = 1
			}
			in := b.Shape(x).C
			h := x
			if t != 1 {
				h = b.Clip(conv(h, in*t, 1, 1, 1), 0, 6)
			}
			h = b.Clip(conv(h, in*t, 3, st, in*t), 0, 6)
			h = conv(h, c, 1, 1, 1)
			if st == 1 && in == c {
				h = b.Add(x, h)
			}
			x = h
		}
	}
	x = b.GlobalAvgPool(b.Clip(conv(x, 1280, 1, 1, 1), 0, 6))
	g, err := b.Build(b.Linear("fc", x, 1000, randVec(r, 1000*1280, 0.03), randVec(r, 1000, 0.1)))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// BenchmarkMobileNetV2 times one worker on micro-batches of 8 images at 224×224 (see
// benchNetwork).
func BenchmarkMobileNetV2(b *testing.B) { benchNetwork(b, mobileNetV2(b, 224)) }

// benchNetwork times one worker on micro-batches of 8 images of g: the forward pass, and ODIN's
// step (forward, input gradient, second forward). img/cpu-s divides by the thread's CPU time,
// which discounts other load on the machine.
func benchNetwork(b *testing.B, g *Graph) {
	const n = 8
	x := randVec(rand.New(rand.NewPCG(1, 1)), n*g.Input().Size(), 1)
	seed := randVec(rand.New(rand.NewPCG(2, 2)), n*g.Classes(), 1e-3)
	run := func(b *testing.B, odin bool) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		e := g.NewExec(n)
		var gin []float32
		step := func() {
			e.Forward(x, n)
			if odin {
				gin, _ = e.Backward("", seed, gin)
				e.Forward(x, n)
			}
		}
		step() // first touch of the buffers
		b.ResetTimer()
		t0 := threadCPU()
		for range b.N {
			step()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		if cpu := threadCPU() - t0; cpu > 0 {
			b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "img/cpu-s")
		}
	}
	b.Run("forward", func(b *testing.B) { run(b, false) })
	b.Run("odin", func(b *testing.B) { run(b, true) })
}

// BenchmarkMobileNetV2Layers times the forward pass of single MobileNetV2 layers at 224×224
// (8 images, one worker): the depthwise 3×3 convolutions at stride 1 and 2 and a 1×1
// expansion with its ReLU6, to see a kernel change without the rest of the network.
func BenchmarkMobileNetV2Layers(b *testing.B) {
	for _, tc := range []struct {
		name       string
		in         Shape
		out, k, st int
		groups     int
	}{
		{"dw-s1-144x56", Shape{144, 56, 56}, 144, 3, 1, 144},
		{"dw-s2-96x112", Shape{96, 112, 112}, 96, 3, 2, 96},
		{"dw-s2-576x14", Shape{576, 14, 14}, 576, 3, 2, 576},
		{"pw-24to144x56", Shape{24, 56, 56}, 144, 1, 1, 1},
		{"dw-s1-960x7", Shape{960, 7, 7}, 960, 3, 1, 960},
		{"dw-s1-384x14", Shape{384, 14, 14}, 384, 3, 1, 384},
		{"dw-s1-32x112", Shape{32, 112, 112}, 32, 3, 1, 32},
		{"dw-s1-192x28", Shape{192, 28, 28}, 192, 3, 1, 192},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			bl := NewBuilder(tc.in)
			c := Conv{Out: tc.out, KH: tc.k, KW: tc.k, Stride: tc.st, Pad: tc.k / 2, Groups: tc.groups,
				Weight: randVec(r, tc.out*tc.in.C/tc.groups*tc.k*tc.k, 0.3), Bias: randVec(r, tc.out, 0.1)}
			y := bl.Clip(bl.Conv2d("c", bl.Input(), c), 0, 6)
			g, err := bl.Build(bl.GlobalAvgPool(y))
			if err != nil {
				b.Fatal(err)
			}
			const n = 8
			x := randVec(r, n*tc.in.Size(), 1)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			e := g.NewExec(n)
			if err := e.Forward(x, n); err != nil {
				b.Fatal(err)
			}
			// Only the convolution's step (with its fused clamp), not the input's copy.
			st := g.plan.steps[0]
			in := [][]float32{e.vals[st.in[0]]}
			b.ResetTimer()
			t0 := threadCPU()
			for range b.N {
				st.op.forward(&e.x, n, in, e.vals[st.out])
			}
			if cpu := threadCPU() - t0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			}
		})
	}
}
