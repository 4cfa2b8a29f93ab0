package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// profileNet is a small network with one step of each common kind: a 3×3 convolution with its
// clamp fused, a depthwise convolution, a 1×1 convolution, a residual sum, pooling and a
// linear layer.
func profileNet(t *testing.T) *Graph {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	b := NewBuilder(Shape{3, 16, 16})
	conv := func(name string, x Value, out, k, groups int) Value {
		in := b.Shape(x).C
		return b.Conv2d(name, x, Conv{Out: out, KH: k, KW: k, Stride: 1, Pad: k / 2, Groups: groups,
			Weight: randVec(r, out*in/groups*k*k, 0.3), Bias: randVec(r, out, 0.1)})
	}
	x := b.Clip(conv("stem", b.Input(), 8, 3, 1), 0, 6)
	y := conv("project", b.Clip(conv("depthwise", x, 8, 3, 8), 0, 6), 8, 1, 1)
	z := b.GlobalAvgPool(b.Add(x, y))
	g, err := b.Build(b.Linear("fc", z, 5, randVec(r, 5*8, 0.3), randVec(r, 5, 0.1)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestProfile(t *testing.T) {
	g := profileNet(t)
	const n = 3
	r := rand.New(rand.NewPCG(1, 2))
	x, grad := randVec(r, n*g.Input().Size(), 1), randVec(r, n*g.Classes(), 1e-3)

	ref := g.NewExec(n)
	if err := ref.Forward(x, n); err != nil {
		t.Fatal(err)
	}
	wantLogits := ref.Logits(nil)
	wantGrad, err := ref.Backward("", grad, nil)
	if err != nil {
		t.Fatal(err)
	}

	e := g.NewExec(n)
	steps, err := e.Profile(x, n, grad, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(g.plan.steps) {
		t.Fatalf("%d step times for %d steps", len(steps), len(g.plan.steps))
	}
	byName := map[string]StepTime{}
	for i, s := range steps {
		if s.Step != i || s.Forward <= 0 || s.Backward <= 0 {
			t.Errorf("step %d: %+v: want its position and positive times", i, s)
		}
		byName[s.Name] = s
	}
	for name, kind := range map[string]string{"stem": "conv 3×3 Winograd", "depthwise": "depthwise 3×3", "project": "conv 1×1", "fc": "linear"} {
		s, ok := byName[name]
		if !ok || s.Kind != kind {
			t.Errorf("layer %q: got %+v, want kind %q (a fused clamp keeps its convolution's name)", name, s, kind)
		}
	}
	if s := byName["stem"]; !strings.HasSuffix(s.Op, "+ clamp") || s.Out != (Shape{8, 16, 16}) {
		t.Errorf("stem: %+v, want a fused clamp and an 8×16×16 output", s)
	}

	// The Exec holds x's forward pass afterwards, and its backward pass is unchanged.
	if got := e.Logits(nil); !sameBits(got, wantLogits) {
		t.Errorf("logits after Profile differ from Forward's")
	}
	gotGrad, err := e.Backward("", grad, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(gotGrad, wantGrad) {
		t.Errorf("input gradient after Profile differs from Backward's")
	}

	if _, err := e.Profile(x, n, grad[:len(grad)-1], 1); err == nil {
		t.Errorf("Profile took a gradient one value short")
	}
	if _, err := e.Profile(x, n+1, grad, 1); err == nil {
		t.Errorf("Profile took %d images on an Exec of %d", n+1, n)
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
