package dataset_test

import (
	"fmt"

	"github.com/odin-ood/odin/dataset"
)

// The table of descriptors says what each known set is; code that lists or chooses sets reads
// it rather than naming them.
func ExampleDescriptors() {
	for _, d := range dataset.Descriptors() {
		if d.Role == dataset.RoleOut && d.Buildable() {
			fmt.Printf("%-16s %s, built from <data>/%s\n", d.Name, d.Display, d.Source)
		}
	}
	fmt.Println(dataset.OODNames())
	// Output:
	// Imagenet         Tiny-ImageNet (crop), built from <data>/tiny-imagenet-200/test/images
	// Imagenet_resize  Tiny-ImageNet (resize), built from <data>/tiny-imagenet-200/test/images
	// LSUN             LSUN (crop), built from <data>/lsun-raw
	// LSUN_resize      LSUN (resize), built from <data>/lsun-raw
	// [Imagenet Imagenet_resize LSUN LSUN_resize iSUN Uniform Gaussian]
}
