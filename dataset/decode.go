package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
)

// raster is an 8-bit RGB image of any size stored as three planes (R, then G, then B), the layout
// Image writes.
type raster struct {
	w, h int
	pix  []byte
}

func newRaster(w, h int) raster { return raster{w: w, h: h, pix: make([]byte, 3*w*h)} }

// maxPixels bounds the images decoded, so that a header claiming a huge image is refused instead
// of exhausting memory.
const maxPixels = 1 << 25

type format int

const (
	notImage format = iota
	formatPNG
	formatJPEG
)

func (f format) String() string {
	if f == formatPNG {
		return "PNG"
	}
	return "JPEG"
}

// errNotImage marks a file that is neither PNG nor JPEG; callers may skip such files.
var errNotImage = errors.New("not a PNG or JPEG image")

// sniff recognises PNG and JPEG by their signatures; file names are not consulted.
func sniff(head []byte) format {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return formatJPEG
	}
	return notImage
}

// readHeader returns the size of the image in path, reading only its header.
func readHeader(path string) (image.Point, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Point{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 4096)
	head, _ := br.Peek(8)
	return config(path, sniff(head), br)
}

func config(path string, f format, r io.Reader) (image.Point, error) {
	var c image.Config
	var err error
	switch f {
	case formatPNG:
		c, err = png.DecodeConfig(r)
	case formatJPEG:
		c, err = jpeg.DecodeConfig(r)
	default:
		return image.Point{}, fmt.Errorf("%s: %w", path, errNotImage)
	}
	if err != nil {
		return image.Point{}, fmt.Errorf("%s: corrupt %v: %v", path, f, err)
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > maxPixels/c.Height {
		return image.Point{}, fmt.Errorf("%s: unsupported %v size %dx%d", path, f, c.Width, c.Height)
	}
	return image.Pt(c.Width, c.Height), nil
}

// decodeFile decodes the PNG or JPEG in path to RGB.
func decodeFile(path string) (raster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return raster{}, err
	}
	return decode(path, data)
}

// DecodeImage decodes a PNG or JPEG held in data into dst (at least Pixels values) exactly as a
// Folder's Image does: RGB as PIL converts it, brought to 32×32 by resize (the zero value refuses
// other sizes), as float32(v)/255, channel-major. name is used in errors. It is for images that
// do not come from a folder: a list of paths, URLs, object storage.
func DecodeImage(name string, data []byte, resize ResizeMode, dst []float32) error {
	if len(dst) < Pixels {
		return fmt.Errorf("%s: destination holds %d values, want at least %d", name, len(dst), Pixels)
	}
	if err := resize.valid(); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	r, err := decode(name, data)
	if err != nil {
		return err
	}
	if r.w != Side || r.h != Side {
		if resize.Filter == 0 {
			return fmt.Errorf("%s: image is %dx%d, the network takes %dx%d", name, r.w, r.h, Side, Side)
		}
		r = r.resize(Side, Side, resize)
	}
	toFloat(dst, r.pix)
	return nil
}

// decode decodes data, naming path in errors.
func decode(path string, data []byte) (raster, error) {
	f := sniff(data)
	size, err := config(path, f, bytes.NewReader(data))
	if err != nil {
		return raster{}, err
	}
	var m image.Image
	if f == formatPNG {
		m, err = png.Decode(bytes.NewReader(data))
	} else {
		m, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return raster{}, fmt.Errorf("%s: corrupt %v: %v", path, f, err)
	}
	if m.Bounds().Size() != size {
		return raster{}, fmt.Errorf("%s: corrupt %v: header says %dx%d, data %dx%d", path, f,
			size.X, size.Y, m.Bounds().Dx(), m.Bounds().Dy())
	}
	return toRaster(m), nil
}
