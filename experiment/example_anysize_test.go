package experiment_test

import (
	"fmt"
	"log"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// An ONNX classifier at 3×16×16 with its own preprocessing: the images of a folder:PATH set are
// resized (shorter side 18, bicubic) and centre-cropped to 16, and normalised with the given std
// (the mean left out stays the model's). The import removed the model's final Softmax and says so.
func ExampleLoadNetworkWith() {
	p := models.Preprocess{Std: []float64{0.25, 0.25, 0.25}, Resize: 18, Crop: 16, Interpolation: "bicubic"}
	net, err := experiment.LoadNetworkWith("../onnx/testdata/tiny-op17.onnx", experiment.LoadOptions{Preprocess: &p})
	if err != nil {
		log.Fatal(err)
	}
	in := net.Model.Graph.Input()
	t := net.Transform()
	fmt.Printf("input %d×%d×%d, %d classes; folders: resize %d, crop %d\n", in.C, in.H, in.W, net.Model.Classes(), t.Resize, t.Crop)
	fmt.Printf("std %v\n", net.Model.Std)
	fmt.Println(net.Notes)
	// Output:
	// input 3×16×16, 5 classes; folders: resize 18, crop 16
	// std [0.25 0.25 0.25]
	// [the final Softmax (node /Softmax) was removed: the detectors read logits]
}
