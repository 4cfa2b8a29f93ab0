package ood

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// TestODINAnyInputSize scores a network on 3×12×10 images and checks ODIN against the steps done
// by hand: the batch takes its image size from the graph, and the perturbation divides ε by each
// channel's std.
func TestODINAnyInputSize(t *testing.T) {
	in := nn.Shape{C: 3, H: 12, W: 10}
	r := rand.New(rand.NewPCG(71, 72))
	vec := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * s)
		}
		return v
	}
	b := nn.NewBuilder(in)
	h := b.ReLU(b.Conv2d("c", b.Input(), nn.Conv{Out: 4, KH: 3, KW: 3, Stride: 2, Pad: 1, Weight: vec(4*27, 0.5)}))
	f := b.GlobalAvgPool(h)
	b.Tap("features", f)
	g, err := b.Build(b.Linear("fc", f, 5, vec(20, 1), vec(5, 0.1)))
	if err != nil {
		t.Fatal(err)
	}
	m := &models.Model{Name: "any-size", Graph: g, Mean: [3]float32{0.4, 0.5, 0.6}, Std: [3]float32{0.2, 0.25, 0.5}}
	const n = 3
	x := make([]float32, n*in.Size())
	for i := range x {
		x[i] = r.Float32()
	}
	d := &ODIN{Temperature: 10, Magnitude: 0.01}
	got := make([]float64, n)
	batch := NewBatch(m, g.NewExec(n))
	if err := batch.Load(x, n); err != nil {
		t.Fatal(err)
	}
	if err := d.Score(context.Background(), batch, got); err != nil {
		t.Fatal(err)
	}

	// By hand.
	e := g.NewExec(n)
	xn := make([]float32, len(x))
	plane := in.H * in.W
	for i, v := range x {
		c := i / plane % 3
		xn[i] = (v - m.Mean[c]) / m.Std[c]
	}
	e.Forward(xn, n)
	logits := e.Logits(nil)
	seed := make([]float32, len(logits))
	for i := range n {
		f := logits[i*5 : (i+1)*5]
		softmaxT(seed[i*5:(i+1)*5], f, d.Temperature)
		seed[i*5+Argmax(f)]--
		for j := range 5 {
			seed[i*5+j] /= float32(d.Temperature)
		}
	}
	grad, err := e.Backward("", seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	xp := make([]float32, len(xn))
	for i, v := range xn {
		step := float32(d.Magnitude / float64(m.Std[i/plane%3]))
		if grad[i] >= 0 {
			xp[i] = v - step
		} else {
			xp[i] = v + step
		}
	}
	e.Forward(xp, n)
	lp := e.Logits(nil)
	for i := range n {
		want := MaxSoftmax(lp[i*5:(i+1)*5], d.Temperature)
		if math.Abs(got[i]-want) > 1e-12 {
			t.Errorf("image %d: ODIN %.15g, by hand %.15g", i, got[i], want)
		}
	}
}
