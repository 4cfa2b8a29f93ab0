package models_test

import (
	"fmt"
	"log"
	"os"

	"github.com/odin-ood/odin/models"
)

// Classify images with a checkpoint: load it (the architecture is inferred from the tensor
// names), normalise the images as the network was trained, run it forward, read the logits.
func Example() {
	m, err := models.Load("testdata/wrn-10-1.pth", "")
	if err != nil {
		log.Fatal(err)
	}
	// Four 3×32×32 images, one byte per value, channel after channel.
	raw, err := os.ReadFile("testdata/random-images.bin")
	if err != nil {
		log.Fatal(err)
	}
	const n = 4
	images := make([]float32, len(raw))
	for i, b := range raw {
		images[i] = float32(b) / 255
	}
	x := make([]float32, len(images))
	m.Normalize(x, images, n)

	e := m.Graph.NewExec(n)
	if err := e.Forward(x, n); err != nil {
		log.Fatal(err)
	}
	logits := e.Logits(nil)
	k := m.Classes()
	fmt.Printf("%s (%s), %d classes\n", m.Name, m.Arch, k)
	for i := range n {
		best := 0
		for j := range k {
			if logits[i*k+j] > logits[i*k+best] {
				best = j
			}
		}
		fmt.Printf("image %d: class %d\n", i, best)
	}
	// Output:
	// WRN-10-1 (wideresnet), 10 classes
	// image 0: class 3
	// image 1: class 7
	// image 2: class 4
	// image 3: class 8
}
