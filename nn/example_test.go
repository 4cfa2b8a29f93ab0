package nn_test

import (
	"fmt"
	"log"

	"github.com/odin-ood/odin/nn"
)

// A network is built once as a Graph and run on an Exec, one per worker; a Pool runs a range of
// images on several Execs in micro-batches.
func Example() {
	// A 1×2×2 input, global average pooling, and a linear layer of two classes.
	b := nn.NewBuilder(nn.Shape{C: 1, H: 2, W: 2})
	x := b.GlobalAvgPool(b.Input())
	b.Tap("features", x)
	g, err := b.Build(b.Linear("fc", x, 2, []float32{1, -1}, []float32{0, 0.5}))
	if err != nil {
		log.Fatal(err)
	}
	e := g.NewExec(2)
	if err := e.Forward([]float32{1, 2, 3, 4, 0, 0, 0, 0}, 2); err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Logits(nil))
	// Output: [2.5 -2 0 0.5]
}

// Profile shows where a network's time goes, layer by layer: here what each step of a small
// network computes (the times depend on the machine).
func ExampleExec_Profile() {
	b := nn.NewBuilder(nn.Shape{C: 1, H: 8, W: 8})
	w := make([]float32, 4*9)
	for i := range w {
		w[i] = float32(i%5) / 10
	}
	x := b.Clip(b.Conv2d("conv", b.Input(), nn.Conv{Out: 4, KH: 3, KW: 3, Stride: 2, Pad: 1, Weight: w}), 0, 6)
	x = b.GlobalAvgPool(x)
	g, err := b.Build(b.Linear("fc", x, 2, make([]float32, 2*4), []float32{0, 0}))
	if err != nil {
		log.Fatal(err)
	}
	images := make([]float32, 2*64)
	grad := []float32{1, -1, 1, -1} // the gradient of two images' two logits
	steps, err := g.NewExec(2).Profile(images, 2, grad, 3)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range steps {
		fmt.Printf("%d %s: %s, output %v\n", s.Step, s.Name, s.Op, s.Out)
	}
	// Output:
	// 0 conv: conv 3×3 stride 2, 1→4, im2col and matrix product + clamp, output 4×4×4
	// 1 globalpool: global average pool, output 4×1×1
	// 2 fc: linear 4→2, output 2×1×1
}
