package decision_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
)

// noise returns n images of 40×40 pixels standing for what a service receives.
func noise(n int) []image.Image {
	var out []image.Image
	for k := range n {
		m := image.NewRGBA(image.Rect(0, 0, 40, 40))
		for i := range m.Pix {
			m.Pix[i] = uint8(i*7 + k*13)
		}
		out = append(out, m)
	}
	return out
}

// A service's path: load a network and the threshold calibrated on it (odin calibrate), convert
// the images it receives as odin's data sets do, score them with ODIN and decide. This body is
// the README's "Using it from Go", checked by TestReadmeSnippet.
func Example() {
	ctx := context.Background()
	images := noise(3)
	checkpoint, thresholdFile := "../models/testdata/densenet-22-4.pth", "testdata/densenet-22-4-odin.json"
	// README begin
	d, err := decision.Open(checkpoint, thresholdFile) // refuses a threshold of another network
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, len(images)*dataset.Pixels)
	resize := dataset.ResizeMode{Filter: dataset.Bilinear, Antialias: true}
	for i, img := range images { // any image.Image: converted exactly as PIL would
		if err := dataset.FromImage(img, resize, x[i*dataset.Pixels:]); err != nil {
			log.Fatal(err)
		}
	}
	scores, err := d.Score(ctx, x, len(images))
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range scores {
		fmt.Printf("image %d: in-distribution %v\n", i, d.Decide(s))
	}
	// README end
	// Output:
	// image 0: in-distribution false
	// image 1: in-distribution false
	// image 2: in-distribution false
}

func ExampleCalibrate() {
	// ODIN scores of held-out in-distribution images.
	scores := []float64{0.1012, 0.1009, 0.1020, 0.1003, 0.1015}
	delta, accepted, err := decision.Calibrate(scores, 0.8)
	if err != nil {
		log.Fatal(err)
	}
	th := &decision.Threshold{Method: "odin", Temperature: 1000, Magnitude: 0.0014, Delta: delta, TPR: 0.8, Accepted: accepted}
	fmt.Println(delta, accepted, th.Decide(0.1005), th.Decide(0.1010))
	// Output: 0.1009 0.8 false true
}

func ExampleThreshold_CheckNetwork() {
	th, err := decision.Load("testdata/densenet-22-4-odin.json")
	if err != nil {
		log.Fatal(err)
	}
	digest, err := decision.Digest("../models/testdata/resnet8.pt")
	if err != nil {
		log.Fatal(err)
	}
	err = th.CheckNetwork(digest)
	fmt.Println(err != nil, errors.Is(err, decision.ErrOtherNetwork))
	// Output: true true
}
