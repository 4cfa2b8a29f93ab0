package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchLayer times forward and backward of one layer (behind a pooled linear head) at the
// shapes of DenseNet-BC-100 and WRN-28-10 on 32×32 images, with a micro-batch of 8 images.
func benchLayer(b *testing.B, in Shape, build func(b *Builder, r *rand.Rand, x Value) Value, flops float64) {
	r := rand.New(rand.NewPCG(1, 1))
	bd := NewBuilder(in)
	y := build(bd, r, bd.Input())
	c := bd.Shape(y).C
	g, err := bd.Build(bd.Linear("fc", bd.GlobalAvgPool(y), 10, randVec(r, 10*c, 1), nil))
	if err != nil {
		b.Fatal(err)
	}
	const n = 8
	x := randVec(r, n*in.Size(), 1)
	grad := randVec(r, n*10, 1)
	e := g.NewExec(n)
	var gin []float32
	for _, dir := range []string{"forward", "backward"} {
		b.Run(dir, func(b *testing.B) {
			if err := e.Forward(x, n); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if dir == "forward" {
					e.Forward(x, n)
				} else {
					gin, _ = e.Backward("", grad, gin)
				}
			}
			b.ReportMetric(flops*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkLayers(b *testing.B) {
	conv := func(r *rand.Rand, cin, cout, k, s, p int) Conv {
		return Conv{Out: cout, KH: k, KW: k, Stride: s, Pad: p, Weight: randVec(r, cout*cin*k*k, 0.1)}
	}
	for _, cin := range []int{120, 300} {
		hw := map[int]int{120: 32, 300: 16}[cin]
		b.Run(fmt.Sprintf("bnrelu-conv1x1-%dto48-%dpx", cin, hw), func(b *testing.B) {
			benchLayer(b, Shape{cin, hw, hw}, func(bd *Builder, r *rand.Rand, x Value) Value {
				return bd.Conv2d("c", bd.ReLU(bd.BatchNorm("bn", x, randBN(r, cin))), conv(r, cin, 48, 1, 1, 0))
			}, 2*float64(cin*48*hw*hw))
		})
	}
	for _, hw := range []int{32, 8} {
		b.Run(fmt.Sprintf("bnrelu-conv3x3-48to12-%dpx", hw), func(b *testing.B) {
			benchLayer(b, Shape{48, hw, hw}, func(bd *Builder, r *rand.Rand, x Value) Value {
				return bd.Conv2d("c", bd.ReLU(bd.BatchNorm("bn", x, randBN(r, 48))), conv(r, 48, 12, 3, 1, 1))
			}, 2*float64(48*12*9*hw*hw))
		})
	}
	b.Run("conv3x3-160to160-32px", func(b *testing.B) {
		benchLayer(b, Shape{160, 32, 32}, func(bd *Builder, r *rand.Rand, x Value) Value {
			return bd.Conv2d("c", x, conv(r, 160, 160, 3, 1, 1))
		}, 2*float64(160*160*9*32*32))
	})
	b.Run("conv3x3s2-160to320-32px", func(b *testing.B) {
		benchLayer(b, Shape{160, 32, 32}, func(bd *Builder, r *rand.Rand, x Value) Value {
			return bd.Conv2d("c", x, conv(r, 160, 320, 3, 2, 1))
		}, 2*float64(160*320*9*16*16))
	})
	b.Run("bnrelu-216x32px", func(b *testing.B) {
		benchLayer(b, Shape{216, 32, 32}, func(bd *Builder, r *rand.Rand, x Value) Value {
			return bd.ReLU(bd.BatchNorm("bn", x, randBN(r, 216)))
		}, 2*float64(216*32*32))
	})
	b.Run("avgpool-216x32px", func(b *testing.B) {
		benchLayer(b, Shape{216, 32, 32}, func(bd *Builder, r *rand.Rand, x Value) Value { return bd.AvgPool(x, 2) }, float64(216*32*32))
	})
}
