package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkConv3x3 times forward and backward of stride-1 pad-1 3×3 convolutions at the shapes of
// DenseNet-BC-100 (with the fused batch norm and ReLU of its bottleneck layers), CIFAR ResNets
// and WRN-28-10 on 32×32 images, micro-batches of 8, by Winograd's algorithm and by the direct
// one, and for the wide layers that take the adjoint backward (see adjointMin) also by the
// flipped-kernel Winograd backward that it replaces (-flipped). GFLOP/s counts the direct algorithm's operations in both, so it compares times;
// cpu-GFLOP/s divides by the thread's CPU time, which discounts other load on the machine.
func BenchmarkConv3x3(b *testing.B) {
	cases := []struct {
		cin, cout, hw int
		bn            bool
	}{
		{48, 12, 32, true}, {48, 12, 16, true}, {48, 12, 8, true},
		{16, 16, 32, false}, {32, 32, 16, false},
		{160, 160, 32, false}, {320, 320, 16, false}, {640, 640, 8, false},
		{3, 24, 32, false},
	}
	for _, tc := range cases {
		for _, path := range []string{"", "-direct", "-flipped"} {
			if path == "-flipped" && tc.cin*tc.cout < adjointMin {
				continue
			}
			name := fmt.Sprintf("%dto%d-%dpx", tc.cin, tc.cout, tc.hw)
			if tc.bn {
				name = "bnrelu-" + name
			}
			b.Run(name+path, func(b *testing.B) {
				benchConv(b, tc.cin, tc.cout, tc.hw, tc.bn, path)
			})
		}
	}
}

func benchConv(b *testing.B, cin, cout, hw int, bn bool, path string) {
	r := rand.New(rand.NewPCG(1, 1))
	in := Shape{cin, hw, hw}
	bd := NewBuilder(in)
	x := bd.Input()
	if bn {
		x = bd.ReLU(bd.BatchNorm("bn", x, randBN(r, cin)))
	}
	y := bd.Conv2d("c", x, Conv{Out: cout, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, cout*cin*9, 0.1)})
	g, err := bd.Build(bd.Linear("fc", bd.GlobalAvgPool(y), 10, randVec(r, 10*cout, 1), nil))
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range g.plan.steps {
		if c, ok := st.op.(*conv); ok && path != "" {
			c.prepareAll(path == "-direct", path == "-flipped")
		}
	}
	const n = 8
	img := randVec(r, n*in.Size(), 1)
	grad := randVec(r, n*10, 1)
	e := g.NewExec(n)
	var gin []float32
	flops := 2 * float64(cin*cout*9*hw*hw)
	for _, dir := range []string{"forward", "backward"} {
		b.Run(dir, func(b *testing.B) {
			if err := e.Forward(img, n); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for b.Loop() {
				if dir == "forward" {
					e.Forward(img, n)
				} else {
					gin, _ = e.Backward("", grad, gin)
				}
			}
			b.ReportMetric(flops*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := threadCPU() - t0; cpu > 0 {
				b.ReportMetric(flops*n*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
			}
		})
	}
}
