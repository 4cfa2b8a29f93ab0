package nn_test

import (
	"fmt"

	"github.com/odin-ood/odin/nn"
)

// A squeeze-and-excitation gate on a depthwise convolution with ReLU6, as an imported MobileNet
// block has it: the gate (C×1×1) broadcasts over the plane.
func ExampleBuilder_Mul() {
	b := nn.NewBuilder(nn.Shape{C: 2, H: 4, W: 4})
	w := make([]float32, 2*9)
	for i := range w {
		w[i] = 1.0 / 9 // a 3×3 mean per channel
	}
	h := b.Clip(b.Conv2d("dw", b.Input(), nn.Conv{Out: 2, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 2, Weight: w}), 0, 6)
	gate := b.Sigmoid(b.GlobalAvgPool(h))
	y := b.GlobalAvgPool(b.Mul(h, gate))
	g, err := b.Build(b.Linear("fc", y, 1, []float32{1, -1}, nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 2*16)
	for i := range 16 {
		x[i], x[16+i] = 3, 1 // channel 0 is 3 everywhere, channel 1 is 1
	}
	e := g.NewExec(1)
	if err := e.Forward(x, 1); err != nil {
		fmt.Println(err)
		return
	}
	// Channel means 2.083 and 0.694 (the zero padding lowers the border), gated by their
	// sigmoids 0.889 and 0.667: 1.852 − 0.463.
	fmt.Printf("logit %.3f\n", e.Logits(nil)[0])
	// Output: logit 1.389
}
