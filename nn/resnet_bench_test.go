package nn

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"
)

// resNet50 builds torchvision's ResNet-50 at side×side as an ONNX import yields it: batch norms
// folded into biased convolutions, ReLU after each, random weights.
func resNet50(tb testing.TB, side int) *Graph {
	r := rand.New(rand.NewPCG(51, 52))
	b := NewBuilder(Shape{3, side, side})
	conv := func(x Value, out, k, stride int) Value {
		in := b.Shape(x).C
		return b.Conv2d("c", x, Conv{Out: out, KH: k, KW: k, Stride: stride, Pad: k / 2,
			Weight: randVec(r, out*in*k*k, 1/float64(in*k*k)), Bias: randVec(r, out, 0.1)})
	}
	x := b.ReLU(conv(b.Input(), 64, 7, 2))
	x = b.MaxPool(x, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}})
	for stage, blocks := range []int{3, 4, 6, 3} {
		width := 64 << stage
		for i := range blocks {
			stride := 1
			if i == 0 && stage > 0 {
				stride = 2
			}
			h := b.ReLU(conv(x, width, 1, 1))
			h = b.ReLU(conv(h, width, 3, stride))
			h = conv(h, 4*width, 1, 1)
			short := x
			if i == 0 {
				short = conv(x, 4*width, 1, stride)
			}
			x = b.ReLU(b.Add(h, short))
		}
	}
	x = b.GlobalAvgPool(x)
	g, err := b.Build(b.Linear("fc", x, 1000, randVec(r, 1000*2048, 0.02), randVec(r, 1000, 0.1)))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// BenchmarkResNet50 times one worker on micro-batches of 8 images at 224×224 (see
// benchNetwork).
func BenchmarkResNet50(b *testing.B) { benchNetwork(b, resNet50(b, 224)) }

// TestStepTimes prints where a forward and backward pass (Exec.Profile) of torchvision's
// ResNet-50 or MobileNetV2 at 224×224 (ODIN_STEPS=resnet50|mobilenet_v2) on 8 images goes,
// summed by kind of step and then step by step, the costliest first, and the memory of the
// buffers. It is a profiling aid, skipped unless asked for.
func TestStepTimes(t *testing.T) {
	var g *Graph
	switch which := os.Getenv("ODIN_STEPS"); which {
	case "":
		t.Skip("set ODIN_STEPS=resnet50 or mobilenet_v2")
	case "resnet50":
		g = resNet50(t, 224)
	case "mobilenet_v2":
		g = mobileNetV2(t, 224)
	default:
		t.Fatalf("ODIN_STEPS=%q", which)
	}
	const n = 8
	x := randVec(rand.New(rand.NewPCG(1, 1)), n*g.Input().Size(), 1)
	seed := randVec(rand.New(rand.NewPCG(2, 2)), n*g.Classes(), 1e-3)
	e := g.NewExec(n)
	steps, err := e.Profile(x, n, seed, 3)
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	kinds := map[string]time.Duration{}
	var rows []timedStep
	for _, s := range steps {
		total += s.Forward + s.Backward
		kinds["fwd "+s.Kind] += s.Forward
		kinds["bwd "+s.Kind] += s.Backward
		at := fmt.Sprintf(" %v (step %d)", s.Out, s.Step)
		rows = append(rows, timedStep{"fwd " + s.Op, at, s.Forward}, timedStep{"bwd " + s.Op, at, s.Backward})
	}
	var ks []timedStep
	for k, d := range kinds {
		ks = append(ks, timedStep{kind: k, d: d})
	}
	for _, l := range [][]timedStep{ks, rows} {
		sort.Slice(l, func(i, j int) bool { return l[i].d > l[j].d })
		for _, r := range l[:min(30, len(l))] {
			t.Logf("%8.2f ms %5.1f%%  %s", r.d.Seconds()*1e3, 100*r.d.Seconds()/total.Seconds(), r.kind+r.at)
		}
	}
	vals, grads := distinctFloats(g, e.vals), distinctFloats(g, e.grads)
	t.Logf("forward and backward %v (fastest of 3, %d images); values %.0f MB, gradients %.0f MB in %d buffers",
		total, n, float64(vals)*4/1e6, float64(grads)*4/1e6, g.plan.grads.slots)
}

// timedStep is one step's (or one kind's) time.
type timedStep struct {
	kind, at string
	d        time.Duration
}

// distinctFloats is the number of floats in the distinct root buffers of bufs (shared ones once).
func distinctFloats(g *Graph, bufs [][]float32) int {
	seen := map[*float32]int{}
	for v, r := range g.plan.root {
		if r == v && len(bufs[v]) > 0 {
			seen[&bufs[v][0]] = max(seen[&bufs[v][0]], cap(bufs[v]))
		}
	}
	total := 0
	for _, c := range seen {
		total += c
	}
	return total
}
