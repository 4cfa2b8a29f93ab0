package dataset

import (
	"errors"
	"fmt"
	"image"
)

// ErrImageSize marks an image FromImage cannot take: empty, larger than the decoder's bound, or
// not 32×32 when no resize is asked for.
var ErrImageSize = errors.New("unsupported image size")

// FromImage converts a decoded image into the network's input (Pixels values in dst, [0, 1],
// channel-major R, G, B planes of 32×32) exactly as a Folder's Image and DecodeImage do: RGB as
// PIL's convert("RGB") makes it, brought to 32×32 by resize (the zero value refuses other sizes),
// as float32(v)/255. The normalisation of the network is applied later, by ood.Batch.Load.
//
// A *image.YCbCr from image/jpeg is converted with libjpeg's upsampling and fixed-point colour
// transform rather than Go's: image/jpeg's own RGB differs from PIL's by 1.5 levels on average
// and up to 79 (see the package doc), which moves ODIN's scores. Gray, paletted, CMYK, 16-bit and
// alpha images follow PIL's rules (alpha dropped, not composited).
func FromImage(m image.Image, resize ResizeMode, dst []float32) error {
	if len(dst) < Pixels {
		return fmt.Errorf("destination holds %d values, want at least %d", len(dst), Pixels)
	}
	if err := resize.valid(); err != nil {
		return err
	}
	b := m.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > maxPixels/b.Dy() {
		return fmt.Errorf("image %dx%d: %w", b.Dx(), b.Dy(), ErrImageSize)
	}
	if (b.Dx() != Side || b.Dy() != Side) && resize.Filter == 0 {
		return fmt.Errorf("image is %dx%d, the network takes %dx%d: %w", b.Dx(), b.Dy(), Side, Side, ErrImageSize)
	}
	r := toRaster(m)
	if r.w != Side || r.h != Side {
		r = r.resize(Side, Side, resize)
	}
	toFloat(dst, r.pix)
	return nil
}
