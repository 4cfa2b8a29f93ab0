package models_test

import (
	"fmt"

	"github.com/odin-ood/odin/models"
)

// A preprocessing file for an ImageNet classifier resized with bicubic interpolation.
func ExampleParsePreprocess() {
	p, err := models.ParsePreprocess([]byte(`{"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
		"resize": 256, "crop": 224, "interpolation": "bicubic"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", p.Transform())
	// Output: {Resize:256 Crop:224 Filter:bicubic}
}
