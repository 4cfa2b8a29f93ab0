package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG headers
	_ "image/png"  // DecodeConfig of PNG headers
	"math"
	"strconv"

	"github.com/odin-ood/odin/dataset"
)

// The model's inputs: a request gives exactly one of them. C×H×W is the network's input shape
// (3×32×32 for the CIFAR networks).
const (
	InputTensor = "input"  // FP32 [N,C,H,W], already normalised
	InputPixels = "pixels" // UINT8 [N,H,W,C], raw RGB pixels at the network's size
	InputImage  = "image"  // BYTES [N], encoded PNG or JPEG of any size, preprocessed
)

// Limits on what a request may hold.
type Limits struct {
	// MaxImages is the most images one request may hold (default 256).
	MaxImages int
	// MaxPixels is the most pixels an encoded image may declare (default 4096×4096): its
	// header is read before anything is decoded, so a small file declaring a huge image is
	// refused without decoding it. It also bounds the image after the preprocessing's resize,
	// which keeps the aspect ratio and so enlarges thin images.
	MaxPixels int
	// MinSide is the smallest width and height of an encoded image (default 8).
	MinSide int
}

func (l Limits) withDefaults() Limits {
	if l.MaxImages == 0 {
		l.MaxImages = 256
	}
	if l.MaxPixels == 0 {
		l.MaxPixels = 4096 * 4096
	}
	if l.MinSide == 0 {
		l.MinSide = 8
	}
	return l
}

// tensorIn is one input tensor of a request, in any protocol: exactly one of the data fields is
// set, or raw holds the gRPC raw bytes.
type tensorIn struct {
	name, datatype string
	shape          []int64
	f32            []float32
	u8             []byte
	bytes          [][]byte
	json           json.RawMessage // REST data, decoded by prepare once the type is checked
	raw            []byte          // gRPC raw_input_contents
	hasRaw         bool
}

// prepare checks a request's inputs and returns its images, normalised, their number, and
// their lease on the model's byte budget, taken before they are decoded.
func (m *Model) prepare(ins []tensorIn, lim Limits) (x []float32, n int, l *lease, err error) {
	x, n, l, err = m.prepareLeased(ins, lim)
	if err != nil {
		l.release()
		return nil, 0, nil, err
	}
	return x, n, l, nil
}

func (m *Model) prepareLeased(ins []tensorIn, lim Limits) ([]float32, int, *lease, error) {
	if len(ins) != 1 {
		return nil, 0, nil, badRequest("model %s takes exactly one input (%q FP32, %q UINT8 or %q BYTES), got %d", m.Name, InputTensor, InputPixels, InputImage, len(ins))
	}
	in := &ins[0]
	want := map[string]string{InputTensor: "FP32", InputPixels: "UINT8", InputImage: "BYTES"}[in.name]
	if want == "" {
		return nil, 0, nil, badRequest("unknown input %q: model %s takes %q, %q or %q", in.name, m.Name, InputTensor, InputPixels, InputImage)
	}
	if in.datatype != want {
		return nil, 0, nil, badRequest("input %q has datatype %q, want %s", in.name, in.datatype, want)
	}
	s := m.Net.Graph.Input()
	C, H, W := int64(s.C), int64(s.H), int64(s.W)
	per := map[string][]int64{InputTensor: {C, H, W}, InputPixels: {H, W, C}, InputImage: {}}[in.name]
	if len(in.shape) != 1+len(per) || in.shape[0] < 1 || !equal(in.shape[1:], per) {
		return nil, 0, nil, badRequest("input %q has shape %v, want [N%s] with N ≥ 1", in.name, in.shape, dims(per))
	}
	if in.shape[0] > int64(lim.MaxImages) {
		return nil, 0, nil, errorf(413, "input %q holds %d images, at most %d are allowed per request", in.name, in.shape[0], lim.MaxImages)
	}
	n := int(in.shape[0])
	if in.name == InputImage {
		if err := m.encodedOK(); err != nil {
			return nil, 0, nil, err
		}
	}
	l, err := m.reserve(n)
	if err != nil {
		return nil, 0, nil, err
	}
	count := n * int(product(per))
	x := make([]float32, n*s.Size())
	switch in.name {
	case InputTensor:
		if err := in.decodeF32(count); err != nil {
			return nil, 0, l, err
		}
		for i, v := range in.f32 {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, 0, l, badRequest("input %q: value %d is %v; values must be finite", in.name, i, v)
			}
		}
		copy(x, in.f32)
	case InputPixels:
		if err := in.decodeU8(count); err != nil {
			return nil, 0, l, err
		}
		hwcToCHW(x, in.u8, n, s.C, s.H*s.W)
		m.Net.Normalize(x, x, n)
	case InputImage:
		if err := in.decodeBytes(n); err != nil {
			return nil, 0, l, err
		}
		size := s.Size()
		for i, data := range in.bytes {
			if err := m.decodeImage(fmt.Sprintf("image %d", i), data, x[i*size:(i+1)*size], lim); err != nil {
				return nil, 0, l, err
			}
		}
		m.Net.Normalize(x, x, n)
	}
	return x, n, l, nil
}

// leased is the bytes of images the model holds, 0 before it starts.
func (m *Model) leased() int64 {
	if m.b == nil {
		return 0
	}
	return m.b.leased()
}

// reserve takes n images' bytes from the model's budget; a model that is not started has none
// to take.
func (m *Model) reserve(n int) (*lease, error) {
	if m.b == nil {
		return nil, ErrClosed
	}
	return m.b.reserve(n)
}

// decodeImage decodes one PNG or JPEG into dst ([0,1], channel-major, not normalised) at the
// network's size, after checking its declared size against the limits: as package dataset
// decodes CIFAR-sized files for a 32×32 network without preprocessing (resized by the model's
// filter), else resized and cropped by the model's transform, which must give H×W.
func (m *Model) decodeImage(name string, data []byte, dst []float32, lim Limits) error {
	c, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return badRequest("%s: not a readable PNG or JPEG image: %v", name, err)
	}
	if format != "png" && format != "jpeg" {
		return badRequest("%s: %s image, want PNG or JPEG", name, format)
	}
	if c.Width < lim.MinSide || c.Height < lim.MinSide {
		return badRequest("%s: image is %d×%d, smaller than the minimum %d×%d", name, c.Width, c.Height, lim.MinSide, lim.MinSide)
	}
	if c.Width > lim.MaxPixels/c.Height {
		return errorf(413, "%s: image declares %d×%d pixels, more than the limit of %d", name, c.Width, c.Height, lim.MaxPixels)
	}
	s := m.Net.Graph.Input()
	if m.legacy {
		if (c.Width != 32 || c.Height != 32) && m.Resize.Filter == 0 {
			return badRequest("%s: image is %d×%d; model %s takes 32×32 and resizes nothing", name, c.Width, c.Height, m.Name)
		}
		if err := dataset.DecodeImage(name, data, m.Resize, dst); err != nil {
			return badRequest("%v", err)
		}
		return nil
	}
	t := m.transform
	if rw, rh := resizedSize(t, c.Width, c.Height); rw > lim.MaxPixels/rh {
		return errorf(413, "%s: image %d×%d resizes to %d×%d pixels, more than the limit of %d", name, c.Width, c.Height, rw, rh, lim.MaxPixels)
	}
	if w, h := t.Size(c.Width, c.Height); w != s.W || h != s.H {
		return badRequest("%s: image %d×%d becomes %d×%d after preprocessing; model %s takes %d×%d", name, c.Width, c.Height, w, h, m.Name, s.W, s.H)
	}
	if _, _, err := dataset.DecodeTransformed(name, data, t, dst); err != nil {
		return badRequest("%v", err)
	}
	return nil
}

// resizedSize is the size an image of w×h has after t's resize, before its crop: the resize
// keeps the aspect ratio, so a thin image grows far beyond the size it declares.
func resizedSize(t dataset.Transform, w, h int) (int, int) {
	if t.Resize <= 0 {
		return w, h
	}
	return dataset.Transform{Resize: t.Resize}.Size(w, h)
}

// encodedOK reports a model whose input encoded images cannot feed: they decode to RGB.
func (m *Model) encodedOK() error {
	if s := m.Net.Graph.Input(); s.C != 3 {
		return badRequest("model %s takes %v inputs; encoded images decode to 3 channels: send %q or %q", m.Name, s, InputTensor, InputPixels)
	}
	return nil
}

// hwcToCHW converts n images of 8-bit pixels (plane pixels of c channels each, interleaved) to
// channel-major [0,1] values as dataset does: float32(v)/255.
func hwcToCHW(dst []float32, src []byte, n, c, plane int) {
	size := c * plane
	for b := range n {
		img, out := src[b*size:(b+1)*size], dst[b*size:(b+1)*size]
		for p := range plane {
			for k := range c {
				out[k*plane+p] = float32(img[p*c+k]) / 255
			}
		}
	}
}

func (in *tensorIn) decodeF32(count int) error {
	switch {
	case in.hasRaw:
		if len(in.raw) != 4*count {
			return badRequest("input %q: %d raw bytes for shape %v, want %d", in.name, len(in.raw), in.shape, 4*count)
		}
		in.f32 = make([]float32, count)
		for i := range in.f32 {
			in.f32[i] = math.Float32frombits(le32(in.raw[4*i:]))
		}
	case in.json != nil:
		in.f32 = make([]float32, 0, count)
		err := scanJSON(in.json, count, func(tok []byte, str bool) error {
			if str {
				return fmt.Errorf("a string among FP32 values")
			}
			v, err := strconv.ParseFloat(string(tok), 32)
			if err != nil {
				return fmt.Errorf("%s is not an FP32 value", tok)
			}
			in.f32 = append(in.f32, float32(v))
			return nil
		})
		if err != nil {
			return badRequest("input %q: %v", in.name, err)
		}
	}
	if len(in.f32) != count {
		return badRequest("input %q: %d values for shape %v, want %d", in.name, len(in.f32), in.shape, count)
	}
	return nil
}

func (in *tensorIn) decodeU8(count int) error {
	switch {
	case in.hasRaw:
		in.u8 = in.raw
	case in.json != nil:
		in.u8 = make([]byte, 0, count)
		err := scanJSON(in.json, count, func(tok []byte, str bool) error {
			v, err := strconv.ParseUint(string(tok), 10, 8)
			if str || err != nil {
				return fmt.Errorf("%s is not a UINT8 value", tok)
			}
			in.u8 = append(in.u8, byte(v))
			return nil
		})
		if err != nil {
			return badRequest("input %q: %v", in.name, err)
		}
	}
	if len(in.u8) != count {
		return badRequest("input %q: %d values for shape %v, want %d", in.name, len(in.u8), in.shape, count)
	}
	return nil
}

// decodeBytes reads BYTES elements: in JSON, base64 strings; raw, each a 4-byte little-endian
// length then the bytes (Triton's layout).
func (in *tensorIn) decodeBytes(count int) error {
	switch {
	case in.hasRaw:
		in.bytes = nil
		r := in.raw
		for len(r) > 0 {
			if len(r) < 4 || uint64(le32(r)) > uint64(len(r)-4) {
				return badRequest("input %q: raw BYTES element %d overruns the data", in.name, len(in.bytes))
			}
			l := int(le32(r))
			in.bytes = append(in.bytes, r[4:4+l])
			r = r[4+l:]
		}
	case in.json != nil:
		err := scanJSON(in.json, count, func(tok []byte, str bool) error {
			var b []byte
			if !str || json.Unmarshal(tok, &b) != nil {
				return fmt.Errorf("BYTES elements must be base64 strings")
			}
			in.bytes = append(in.bytes, b)
			return nil
		})
		if err != nil {
			return badRequest("input %q: %v", in.name, err)
		}
	}
	if len(in.bytes) != count {
		return badRequest("input %q: %d elements for shape %v, want %d", in.name, len(in.bytes), in.shape, count)
	}
	return nil
}

// scanJSON calls fn for each scalar of a JSON array, nested or flat, in order, and stops with
// an error past max scalars. tok is the scalar's JSON text; str says it is a string. The text
// must be valid JSON (encoding/json has checked it).
func scanJSON(data []byte, max int, fn func(tok []byte, str bool) error) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '[' {
		return fmt.Errorf("data must be an array")
	}
	count := 0
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == '[' || c == ']' || c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r':
			i++
			continue
		case c == '{':
			return fmt.Errorf("an object among tensor values")
		}
		j := i + 1
		str := c == '"'
		if str {
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			j++
		} else {
			for j < len(data) && !bytes.ContainsRune([]byte("[], \n\t\r"), rune(data[j])) {
				j++
			}
		}
		if count++; count > max {
			return fmt.Errorf("more values than the shape holds (%d)", max)
		}
		if err := fn(data[i:j], str); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func product(s []int64) int64 {
	p := int64(1)
	for _, v := range s {
		p *= v
	}
	return p
}

func dims(s []int64) string {
	out := ""
	for _, v := range s {
		out += "," + strconv.FormatInt(v, 10)
	}
	return out
}
