package nn

import (
	"math/rand/v2"
	"testing"
)

// TestGradientBuffersShared checks that a residual network's gradients share a few buffers, and
// so do the values no backward pass reads, and that the logits and the input gradients, from the
// logits and from a tap, in any order, are those computed with a buffer per value, each cleared
// and added to (no gradient written by its one reader).
func TestGradientBuffersShared(t *testing.T) {
	build := func() *Graph {
		r := rand.New(rand.NewPCG(21, 22))
		b := NewBuilder(Shape{3, 12, 12})
		conv := func(x Value, out, k, stride int) Value {
			in := b.Shape(x).C
			return b.Conv2d("c", x, Conv{Out: out, KH: k, KW: k, Stride: stride, Pad: k / 2,
				Weight: randVec(r, out*in*k*k, 0.5/float64(k)), Bias: randVec(r, out, 0.1)})
		}
		x := b.ReLU(conv(b.Input(), 8, 3, 1))
		for i := range 4 {
			h := b.ReLU(conv(x, 8, 1, 1))
			h = b.ReLU(conv(h, 8, 3, 1))
			x = b.ReLU(b.Add(conv(h, 8, 1, 1), x))
			if i == 1 {
				b.Tap("mid", x)
			}
		}
		x = b.MaxPool(x, Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}})
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(x), 5, randVec(r, 40, 1), randVec(r, 5, 0.1)))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	shared, own := build(), build()
	external := make([]bool, len(own.nodes))
	external[own.output] = true
	for _, id := range own.taps {
		external[id] = true
	}
	stored := unstore(own.plan)
	if stored < 8 {
		t.Fatalf("%d gradients written by their one reader, want at least 8", stored)
	}
	own.plan.grads = planGradientsWith(own.plan, external, false)
	transient := 0
	for v := range own.plan.valSlot {
		if own.plan.valSlot[v] >= 0 {
			transient++
		}
		own.plan.valSlot[v] = -1
	}
	own.plan.valSlots = 0
	if s := shared.plan.valSlots; transient < 4 || s > 2 {
		t.Fatalf("%d transient values in %d shared buffers, want at least 4 in at most 2", transient, s)
	}
	roots := 0
	for v, r := range shared.plan.root {
		if r == v {
			roots++
		}
	}
	t.Logf("%d shared gradient buffers for %d values", shared.plan.grads.slots, roots)
	if s := shared.plan.grads.slots; s >= roots/2 || own.plan.grads.slots != roots {
		t.Fatalf("%d shared gradient buffers and %d unshared for %d values", s, own.plan.grads.slots, roots)
	}
	r := rand.New(rand.NewPCG(23, 24))
	const n = 3
	xs := randVec(r, n*shared.Input().Size(), 1)
	seed := randVec(r, n*5, 1)
	tapSeed := randVec(r, n*8*12*12, 1)
	es, eo := shared.NewExec(n), own.NewExec(n)
	for _, e := range []*Exec{es, eo} {
		if err := e.Forward(xs, n); err != nil {
			t.Fatal(err)
		}
	}
	la, lb := es.Logits(nil), eo.Logits(nil)
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("logit %d is %v with shared buffers, %v without", i, la[i], lb[i])
		}
	}
	for _, from := range []string{"", "mid", "", "mid"} {
		grad := seed
		if from != "" {
			grad = tapSeed
		}
		a, err := es.Backward(from, grad, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := eo.Backward(from, grad, nil)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("backward from %q: input gradient %d is %v with shared buffers, %v without", from, i, a[i], b[i])
			}
		}
	}
}

// unstore undoes storeGradients on p: every gradient is cleared and added to. It returns how many
// it undid.
func unstore(p *plan) int {
	k := 0
	var plain func(o op) op
	plain = func(o op) op {
		switch c := o.(type) {
		case *activated:
			a := *c
			a.inner = plain(c.inner)
			return &a
		case *conv:
			if c.gradOver {
				k++
				u := *c
				u.gradOver = false
				return &u
			}
		case add:
			for _, s := range c.store {
				if s {
					k++
				}
			}
			c.store = [2]bool{}
			return c
		}
		return o
	}
	for i, st := range p.steps {
		p.steps[i].op = plain(st.op)
		for _, v := range st.in {
			if c, ok := st.op.(*conv); !ok || !c.gradStore {
				p.gradOwned[v] = false
			}
		}
	}
	return k
}
