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
