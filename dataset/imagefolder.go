package dataset

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Transform is torchvision's evaluation preprocessing of PIL images up to ToTensor:
// Resize(Resize) of the shorter side, then CenterCrop(Crop), then the 8-bit samples as v/255.
// Resizing is PIL's Image.resize, reproduced exactly: PIL's kernels, antialiased when shrinking,
// 8-bit fixed-point weights (22 fraction bits), a horizontal pass rounded and clamped to 8 bits,
// then a vertical one. The zero Transform leaves images as they are.
type Transform struct {
	// Resize is the length the shorter side is scaled to (the longer one keeps the aspect
	// ratio, truncated as torchvision does); 0 keeps the size.
	Resize int
	// Crop is the side of the centred square crop (zero-padded when the image is smaller, as
	// CenterCrop does); 0 keeps the whole image.
	Crop int
	// Filter is PIL's resampling filter: Bilinear (torchvision's default), Bicubic, Nearest,
	// Box or Lanczos. 0 means Bilinear.
	Filter Filter
}

// Size is the size of an image of w×h after the transform.
func (t Transform) Size(w, h int) (int, int) {
	w, h = t.resized(w, h)
	if t.Crop > 0 {
		return t.Crop, t.Crop
	}
	return w, h
}

// resized is torchvision's _compute_resized_output_size for an int size.
func (t Transform) resized(w, h int) (int, int) {
	if t.Resize <= 0 {
		return w, h
	}
	if w <= h {
		return t.Resize, int(float64(t.Resize) * float64(h) / float64(w))
	}
	return int(float64(t.Resize) * float64(w) / float64(h)), t.Resize
}

// maxSide bounds the sides a Transform produces, so that a configuration cannot ask for
// unbounded memory.
const maxSide = 8192

// Check reports sizes out of range and unknown filters.
func (t Transform) Check() error {
	if t.Resize < 0 || t.Crop < 0 || t.Resize > maxSide || t.Crop > maxSide {
		return fmt.Errorf("transform: resize %d and crop %d must lie in [0, %d]", t.Resize, t.Crop, maxSide)
	}
	if t.Filter < 0 || t.Filter > Lanczos {
		return fmt.Errorf("transform: unknown filter %v", t.Filter)
	}
	return nil
}

// apply transforms r.
func (t Transform) apply(r raster) raster {
	w, h := t.resized(r.w, r.h)
	if w != r.w || h != r.h {
		f := t.Filter
		if f == 0 {
			f = Bilinear
		}
		r = pilResize(r, w, h, f)
	}
	if t.Crop > 0 {
		r = centreCrop(r, t.Crop)
	}
	return r
}

// centreCrop is torchvision's center_crop: offsets round((size − crop)/2) with Python's
// round-half-to-even, zeros outside the image.
func centreCrop(r raster, side int) raster {
	if r.w == side && r.h == side {
		return r
	}
	top, left := centreOffset(r.h, side), centreOffset(r.w, side)
	out := newRaster(side, side)
	for c := range 3 {
		for y := range side {
			sy := top + y
			if sy < 0 || sy >= r.h {
				continue
			}
			for x := range side {
				if sx := left + x; sx >= 0 && sx < r.w {
					out.pix[(c*side+y)*side+x] = r.pix[(c*r.h+sy)*r.w+sx]
				}
			}
		}
	}
	return out
}

// centreOffset is where the crop starts along an axis of n pixels: CenterCrop pads a smaller
// axis by ⌊(side−n)/2⌋ before and the rest after, and rounds a larger one's offset half to even.
func centreOffset(n, side int) int {
	if n < side {
		return -((side - n) / 2)
	}
	return int(math.RoundToEven(float64(n-side) / 2))
}

// pilBits is the fraction bits of PIL's 8-bit resampling weights (PRECISION_BITS).
const pilBits = 32 - 8 - 2

// pilWeights are PIL's fixed-point taps along one axis.
type pilWeights struct {
	first []int
	k     [][]int32
}

func newPILWeights(in, out int, f Filter) pilWeights {
	t := weights(in, out, ResizeMode{Filter: f, Antialias: true}) // PIL's float coefficients
	p := pilWeights{first: t.first, k: make([][]int32, out)}
	for x, ws := range t.w {
		k := make([]int32, len(ws))
		for j, w := range ws {
			if w < 0 {
				k[j] = int32(-0.5 + w*(1<<pilBits))
			} else {
				k[j] = int32(0.5 + w*(1<<pilBits))
			}
		}
		p.k[x] = k
	}
	return p
}

func clip8(v int32) byte {
	v >>= pilBits
	return byte(min(max(v, 0), 255))
}

// pilResize is PIL's Image.resize of an 8-bit RGB image to dw×dh: the horizontal pass (if the
// width changes) into 8-bit samples, then the vertical one (if the height changes).
func pilResize(r raster, dw, dh int, f Filter) raster {
	if f == Nearest {
		return r.resize(dw, dh, ResizeMode{Filter: Nearest})
	}
	if dw != r.w {
		xt := newPILWeights(r.w, dw, f)
		out := newRaster(dw, r.h)
		for c := range 3 {
			for y := range r.h {
				src := r.pix[(c*r.h+y)*r.w : (c*r.h+y+1)*r.w]
				dst := out.pix[(c*r.h+y)*dw : (c*r.h+y+1)*dw]
				for x := range dw {
					s := int32(1 << (pilBits - 1))
					for j, k := range xt.k[x] {
						s += int32(src[xt.first[x]+j]) * k
					}
					dst[x] = clip8(s)
				}
			}
		}
		r = out
	}
	if dh != r.h {
		yt := newPILWeights(r.h, dh, f)
		out := newRaster(r.w, dh)
		for c := range 3 {
			plane := r.pix[c*r.h*r.w : (c+1)*r.h*r.w]
			for y := range dh {
				dst := out.pix[(c*dh+y)*r.w : (c*dh+y+1)*r.w]
				for x := range dst {
					s := int32(1 << (pilBits - 1))
					for j, k := range yt.k[y] {
						s += int32(plane[(yt.first[y]+j)*r.w+x]) * k
					}
					dst[x] = clip8(s)
				}
			}
		}
		r = out
	}
	return r
}

// DecodeTransformed decodes a PNG or JPEG held in data, converts it to RGB as PIL does, applies
// t and writes it as float32(v)/255, channel-major, into dst, which must hold the 3·w·h values
// of the transformed size. It returns that size. name is used in errors.
func DecodeTransformed(name string, data []byte, t Transform, dst []float32) (w, h int, err error) {
	if err := t.Check(); err != nil {
		return 0, 0, fmt.Errorf("%s: %v", name, err)
	}
	r, err := decode(name, data)
	if err != nil {
		return 0, 0, err
	}
	r = t.apply(r)
	if len(dst) < len(r.pix) {
		return 0, 0, fmt.Errorf("%s: destination holds %d values, the image has %d (%dx%d)", name, len(dst), len(r.pix), r.w, r.h)
	}
	toFloat(dst, r.pix)
	return r.w, r.h, nil
}

// PixelsOf is the number of values of one image of ds: its Pixels method's answer if it has
// one (an ImageFolder), else the Pixels of a 32×32 set.
func PixelsOf(ds Dataset) int {
	if s, ok := ds.(interface{ Pixels() int }); ok {
		return s.Pixels()
	}
	return Pixels
}

// ImageFolder is a labelled set laid out as torchvision's ImageFolder reads it:
// <root>/<class>/…/<image>, the classes being the sub-folders of root in sorted order, and the
// images of each class those at any depth below it whose names end (in any case) in an image
// extension, in the order of sorted(os.walk) and sorted file names. Every image is decoded and
// transformed on demand; all must come out of the transform at one size (set Crop, or use
// images of one size), which Pixels reports.
type ImageFolder struct {
	root    string
	t       Transform
	classes []string
	files   []string
	labels  []int
	side    int
}

// imageExts are torchvision's IMG_EXTENSIONS; odin decodes the PNG and JPEG ones.
var imageExts = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

// OpenImageFolder lists root as torchvision's ImageFolder does. t must set Crop: the images of
// a folder come in any size, and the network takes one.
func OpenImageFolder(root string, t Transform) (*ImageFolder, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	if t.Crop <= 0 {
		return nil, fmt.Errorf("image folder %s: the transform needs a crop size", root)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	f := &ImageFolder{root: root, t: t, side: t.Crop}
	for _, e := range entries {
		if isDirFollow(root, e) {
			f.classes = append(f.classes, e.Name())
		}
	}
	sort.Strings(f.classes)
	if len(f.classes) == 0 {
		return nil, fmt.Errorf("image folder %s: no class folders", root)
	}
	for label, c := range f.classes {
		files, err := walkImages(filepath.Join(root, c))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("image folder %s: class %s holds no images", root, c)
		}
		for _, p := range files {
			f.files = append(f.files, p)
			f.labels = append(f.labels, label)
		}
	}
	return f, nil
}

// isDirFollow follows symbolic links, as os.walk(followlinks=True) does.
func isDirFollow(root string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	st, err := os.Stat(filepath.Join(root, e.Name()))
	return err == nil && st.IsDir()
}

// walkImages lists the images below dir in the order of Python's sorted(os.walk(dir)) with each
// folder's file names sorted: folders by their path, files by name within a folder.
func walkImages(dir string) ([]string, error) {
	type entry struct{ dir, name string }
	var all []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		lower := strings.ToLower(d.Name())
		for _, ext := range imageExts {
			if strings.HasSuffix(lower, ext) {
				all = append(all, entry{filepath.Dir(p), d.Name()})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].dir != all[j].dir {
			return all[i].dir < all[j].dir
		}
		return all[i].name < all[j].name
	})
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = filepath.Join(e.dir, e.name)
	}
	return out, nil
}

// Name is the folder's path.
func (f *ImageFolder) Name() string { return f.root }

// Len is the number of images.
func (f *ImageFolder) Len() int { return len(f.files) }

// Classes are the class folders' names, indexed by label.
func (f *ImageFolder) Classes() []string { return f.classes }

// Pixels is the number of values of one transformed image: 3·Crop·Crop.
func (f *ImageFolder) Pixels() int { return 3 * f.side * f.side }

// Path is the file of image i.
func (f *ImageFolder) Path(i int) string { return f.files[i] }

// Image decodes and transforms image i into dst (at least Pixels values) and returns its label.
func (f *ImageFolder) Image(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(f.files) {
		return 0, fmt.Errorf("%s: image %d out of range [0, %d)", f.root, i, len(f.files))
	}
	if len(dst) < f.Pixels() {
		return 0, fmt.Errorf("%s: destination holds %d values, want at least %d", f.root, len(dst), f.Pixels())
	}
	data, err := os.ReadFile(f.files[i])
	if err != nil {
		return 0, err
	}
	if _, _, err := DecodeTransformed(f.files[i], data, f.t, dst); err != nil {
		return 0, err
	}
	return f.labels[i], nil
}
