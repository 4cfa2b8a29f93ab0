package ood

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// convModel is a small convolutional network on 3×8×8 images.
func convModel(t *testing.T) *models.Model {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	rv := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.3)
		}
		return v
	}
	b := nn.NewBuilder(nn.Shape{C: 3, H: 8, W: 8})
	x := b.ReLU(b.Conv2d("conv", b.Input(), nn.Conv{Out: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: rv(6 * 27), Bias: rv(6)}))
	x = b.GlobalAvgPool(x)
	b.Tap("features", x)
	g, err := b.Build(b.Linear("fc", x, 4, rv(4*6), rv(4)))
	if err != nil {
		t.Fatal(err)
	}
	return &models.Model{Name: "conv", Graph: g, Mean: models.CIFARMean, Std: models.CIFARStd}
}

// ProfileODIN leaves the batch as it found it: ODIN's scores after it are those before.
func TestProfileODIN(t *testing.T) {
	m := convModel(t)
	const n = 4
	r := rand.New(rand.NewPCG(5, 6))
	images := make([]float32, n*m.Graph.Input().Size())
	for i := range images {
		images[i] = r.Float32()
	}
	b := NewBatch(m, m.Graph.NewExec(n))
	if err := b.Load(images, n); err != nil {
		t.Fatal(err)
	}
	ctx, det := context.Background(), NewODIN()
	want := make([]float64, n)
	if err := det.Score(ctx, b, want); err != nil {
		t.Fatal(err)
	}
	steps, err := ProfileODIN(b, det.Temperature, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0].Name != "conv" || steps[0].Backward <= 0 {
		t.Errorf("steps %+v: want conv, pooling and linear, the convolution's backward timed", steps)
	}
	got := make([]float64, n)
	if err := det.Score(ctx, b, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("image %d: ODIN score %v after ProfileODIN, %v before", i, got[i], want[i])
		}
	}
}
