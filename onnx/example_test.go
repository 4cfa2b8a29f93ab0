package onnx_test

import (
	"fmt"
	"log"

	"github.com/odin-ood/odin/onnx"
)

// A small network exported by torch.onnx.export (opset 13, dynamic batch, a final Softmax)
// becomes an odin model whose graph outputs logits and taps the classifier's input.
func ExampleLoad() {
	m, rep, err := onnx.Load("testdata/tiny-op13.onnx", onnx.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input", m.Graph.Input(), "batch", rep.Batch, "classes", m.Classes())
	fmt.Println("features", m.Graph.Taps()["features"])
	fmt.Println(rep.Notes[0])
	// Output:
	// input 3×16×16 batch batch classes 5
	// features 16×1×1
	// the final Softmax (node /Softmax) was removed: the detectors read logits
}
