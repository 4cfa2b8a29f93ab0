package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/nn"
)

// Benchmarks of DenseNet-BC-100 (k=12, 10 classes, random weights) on 64 images per iteration,
// micro-batches of 16 on 2 workers. Run: go test -run '^$' -bench . ./models/
func BenchmarkDenseNetBC100Forward(b *testing.B) { benchDenseNet(b, false) }

// BenchmarkDenseNetBC100ODIN times one ODIN step per image: forward, backward to the input,
// perturbation, forward again.
func BenchmarkDenseNetBC100ODIN(b *testing.B) { benchDenseNet(b, true) }

func benchDenseNet(b *testing.B, odin bool) {
	m, err := FromTensors(randomTensors(DenseNetBC100(10), 1), "")
	if err != nil {
		b.Fatal(err)
	}
	const workers, batch, n = 2, 16, 64
	r := rand.New(rand.NewPCG(2, 3))
	images := make([]float32, n*imageSize)
	for i := range images {
		images[i] = r.Float32()
	}
	x := make([]float32, len(images))
	m.Normalize(x, images, n)
	k := m.Classes()
	type scratch struct{ logits, gradLogits, grad, xt []float32 }
	s := make([]scratch, workers)
	for w := range s {
		s[w] = scratch{make([]float32, batch*k), make([]float32, batch*k), make([]float32, batch*imageSize), make([]float32, batch*imageSize)}
	}
	scores := make([]float64, n)
	pool := nn.NewPool(m.Graph, workers, batch)
	step := func(e *nn.Exec, w, lo, hi int) error {
		c := hi - lo
		xs := x[lo*imageSize : hi*imageSize]
		if err := e.Forward(xs, c); err != nil {
			return err
		}
		sc := &s[w]
		sc.logits = e.Logits(sc.logits)
		if !odin {
			for i := range c {
				scores[lo+i] = maxSoftmaxAt(sc.logits[i*k:(i+1)*k], 1)
			}
			return nil
		}
		const temp, eps = 1000, 0.0014
		for i := range c {
			odinLogitGrad(sc.gradLogits[i*k:(i+1)*k], sc.logits[i*k:(i+1)*k], temp)
		}
		var err error
		if sc.grad, err = e.Backward("", sc.gradLogits[:c*k], sc.grad); err != nil {
			return err
		}
		for i, g := range sc.grad {
			d := float32(eps) / m.Std[i/1024%3]
			if g < 0 {
				d = -d
			}
			sc.xt[i] = xs[i] - d
		}
		if err := e.Forward(sc.xt, c); err != nil {
			return err
		}
		sc.logits = e.Logits(sc.logits)
		for i := range c {
			scores[lo+i] = maxSoftmaxAt(sc.logits[i*k:(i+1)*k], temp)
		}
		return nil
	}
	ctx := context.Background()
	if err := pool.Run(ctx, n, step); err != nil { // allocate the executors outside the timing
		b.Fatal(err)
	}
	iters := 0
	b.ResetTimer()
	for b.Loop() {
		if err := pool.Run(ctx, n, step); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	b.ReportMetric(float64(iters*n)/b.Elapsed().Seconds(), "img/s")
}

// odinLogitGrad writes ∂/∂f cross-entropy(f/T, argmax f) = (softmax(f/T) − onehot)/T.
func odinLogitGrad(dst, f []float32, temp float64) {
	y := argmax(f)
	hi := float64(f[y]) / temp
	var sum float64
	for _, v := range f {
		sum += math.Exp(float64(v)/temp - hi)
	}
	for j, v := range f {
		p := math.Exp(float64(v)/temp-hi) / sum
		if j == y {
			p--
		}
		dst[j] = float32(p / temp)
	}
}

// maxSoftmaxAt is max softmax(f/T) without allocating.
func maxSoftmaxAt(f []float32, temp float64) float64 {
	hi := float64(f[argmax(f)]) / temp
	var sum float64
	for _, v := range f {
		sum += math.Exp(float64(v)/temp - hi)
	}
	return 1 / sum
}
