package dataset

import "fmt"

// Side is the width and height of every image a Dataset yields.
const Side = 32

// Pixels is the number of values in one image: 3 channels of Side×Side.
const Pixels = 3 * Side * Side

// Dataset is a random-access, read-only set of 32×32 RGB images. Safe for concurrent use.
type Dataset interface {
	// Name describes the set for reports, e.g. "CIFAR-10 test" or a folder path.
	Name() string
	// Len is the number of images.
	Len() int
	// Image writes image i as float32 in [0,1], channel-major (3×32×32: all R, then G, then B,
	// each row-major) into dst (len >= Pixels) and returns its label, -1 for sets without labels.
	Image(i int, dst []float32) (label int, err error)
	// Classes returns the class names indexed by label, nil if the set has none.
	Classes() []string
}

// checkArgs validates the arguments of Image for a set of n images called name.
func checkArgs(name string, n, i int, dst []float32) error {
	if i < 0 || i >= n {
		return fmt.Errorf("%s: image %d out of range [0, %d)", name, i, n)
	}
	if len(dst) < Pixels {
		return fmt.Errorf("%s: destination holds %d values, want at least %d", name, len(dst), Pixels)
	}
	return nil
}

// toFloat writes 8-bit samples as v/255, the division torchvision's ToTensor does, so that the
// float32 values are bit-identical to the seed's.
func toFloat(dst []float32, src []byte) {
	dst = dst[:len(src)]
	for k, v := range src {
		dst[k] = float32(v) / 255
	}
}
