package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// BuildOptions says which OOD set Build makes and how.
type BuildOptions struct {
	// Name is the set: Imagenet or LSUN (cropped), Imagenet_resize or LSUN_resize (resized).
	Name string
	// Source is the folder of raw images (any depth, any size; PNG or JPEG).
	Source string
	// Out is the folder that receives the seed's layout, e.g. Out/Imagenet_resize/Imagenet_resize.
	Out string
	// Construction names the construction (see ParseConstruction). If it is empty, Filter,
	// Antialias and JPEGQuality give the construction instead, and if Filter is 0 too it is "seed".
	Construction string
	Filter       Filter
	Antialias    bool
	JPEGQuality  int
	// Seed chooses the crops: the crop of image i depends only on Seed and i.
	Seed uint64
	// Workers is the number of images processed at once (at least 1).
	Workers int
	// Force replaces a set already in Out; without it Build refuses to.
	Force bool
	// Progress, if set, is called after each image, from one goroutine at a time.
	Progress func(done, total int)
}

// ErrExists is returned (wrapped) by Build when the set is already in Out and Force is not set.
var ErrExists = errors.New("already built")

// construction resolves the construction that opt asks for.
func (opt BuildOptions) construction() (Construction, error) {
	if opt.Construction != "" {
		if opt.Filter != 0 || opt.Antialias || opt.JPEGQuality != 0 {
			return Construction{}, errors.New("give either a construction or a filter, antialias and JPEG quality, not both")
		}
		return ParseConstruction(opt.Construction)
	}
	if opt.Filter == 0 {
		return ParseConstruction("seed")
	}
	return NewConstruction(opt.Filter, opt.Antialias, opt.JPEGQuality)
}

// Build makes an OOD set from the raw images in opt.Source and writes it into opt.Out in the seed's
// layout, returning the folder of images. Source images are taken in natural order (digit runs
// compare as numbers, so test_2 comes before test_10); image i becomes the file numbered i,
// zero-padded to at least 5 digits (00000.jpg, 00001.jpg, …) so that file order is source order.
// Cropped sets take a 32×32 window at an offset drawn from (Seed, i); resized sets resize the
// whole image to 32×32 with the construction's filter. The output bytes depend only on the
// source images, the construction and Seed, not on Workers.
//
// The set is written into a temporary folder inside Out and renamed into place only when
// complete, so an interrupted build leaves no partial set (only a hidden ".build-*" folder).
// A file BUILD.txt beside the image folder records how the set was made, and MANIFEST.json the
// number of images and their content digest, against which Open checks the set.
func Build(ctx context.Context, opt BuildOptions) (string, error) {
	crop, ok := buildable(opt.Name)
	if !ok {
		return "", fmt.Errorf("build %s: cannot build it (buildable: %s)", opt.Name, strings.Join(BuildableNames(), ", "))
	}
	c, err := opt.construction()
	if err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	layout, _ := Layout(opt.Name)
	top, _, _ := strings.Cut(layout, "/")
	target := filepath.Join(opt.Out, top)
	if _, err := os.Stat(target); err == nil && !opt.Force {
		return "", fmt.Errorf("build %s: %s: %w (force to rebuild)", opt.Name, target, ErrExists)
	}
	files, err := listFiles(opt.Source)
	if err != nil {
		return "", fmt.Errorf("build %s: source %v", opt.Name, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("build %s: source folder %s: no files", opt.Name, opt.Source)
	}
	sortNatural(files)

	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	tmp, err := os.MkdirTemp(opt.Out, ".build-"+opt.Name+"-")
	if err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	defer os.RemoveAll(tmp)
	imgDir := filepath.Join(tmp, filepath.FromSlash(layout))
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	if err := writeImages(ctx, opt, c, crop, files, imgDir); err != nil {
		return "", fmt.Errorf("build %s: %w", opt.Name, err)
	}
	if err := writeRecords(opt, c, crop, len(files), filepath.Join(tmp, top), imgDir); err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	if _, err := os.Stat(target); err == nil {
		// Force: move the old set aside first; it is deleted with tmp.
		if err := os.Rename(target, filepath.Join(tmp, "old")); err != nil {
			return "", fmt.Errorf("build %s: replacing %s: %v", opt.Name, target, err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, top), target); err != nil {
		return "", fmt.Errorf("build %s: %v", opt.Name, err)
	}
	return filepath.Join(opt.Out, filepath.FromSlash(layout)), nil
}

// writeImages makes image i of the set from source file files[i], in parallel, into imgDir.
func writeImages(ctx context.Context, opt BuildOptions, c Construction, crop bool, files []string, imgDir string) error {
	ext := ".png"
	if c.JPEGQuality > 0 {
		ext = ".jpg"
	}
	width := max(5, len(strconv.Itoa(len(files)-1)))
	enc := &png.Encoder{BufferPool: &pngBuffers{}}
	make1 := func(i int) error {
		src := filepath.Join(opt.Source, filepath.FromSlash(files[i]))
		r, err := decodeFile(src)
		if err != nil {
			return err
		}
		if crop {
			if r.w < Side || r.h < Side {
				return fmt.Errorf("%s: image is %dx%d, too small for a %dx%d crop", src, r.w, r.h, Side, Side)
			}
			x0, y0 := cropOffset(opt.Seed, i, r.w, r.h)
			r = r.crop(x0, y0)
		} else {
			r = r.resize(Side, Side, ResizeMode{Filter: c.Filter, Antialias: c.Antialias})
		}
		b, err := encode(r, c.JPEGQuality, enc)
		if err != nil {
			return fmt.Errorf("%s: encoding: %v", src, err)
		}
		return os.WriteFile(filepath.Join(imgDir, fmt.Sprintf("%0*d%s", width, i, ext)), b, 0o644)
	}
	return parallel(ctx, len(files), opt.Workers, make1, opt.Progress)
}

// writeRecords writes BUILD.txt, how the set was made, and MANIFEST.json, what was made, into
// the set's top folder.
func writeRecords(opt BuildOptions, c Construction, crop bool, n int, top, imgDir string) error {
	layout, _ := Layout(opt.Name)
	var about strings.Builder
	fmt.Fprintf(&about, "set: %s\nconstruction: %s\n", opt.Name, c.Name)
	if crop {
		fmt.Fprintf(&about, "method: random %dx%d crop, seed %d\n", Side, Side, opt.Seed)
	} else {
		fmt.Fprintf(&about, "method: resize to %dx%d, %v\n", Side, Side, ResizeMode{c.Filter, c.Antialias})
	}
	if c.JPEGQuality > 0 {
		fmt.Fprintf(&about, "format: JPEG quality %d (Go image/jpeg, 4:2:0)\n", c.JPEGQuality)
	} else {
		fmt.Fprintf(&about, "format: PNG\n")
	}
	fmt.Fprintf(&about, "source: %s (%d images, natural order)\nimages: %s\n", opt.Source, n, layout)
	if err := os.WriteFile(filepath.Join(top, "BUILD.txt"), []byte(about.String()), 0o644); err != nil {
		return err
	}
	// The manifest lets Open check, every time, that the set is still what was built.
	if err := writeManifest(top, imgDir); err != nil {
		return fmt.Errorf("manifest: %v", err)
	}
	return nil
}

// cropOffset draws the top-left corner of image i's crop uniformly among the w×h image's windows.
func cropOffset(seed uint64, i, w, h int) (int, int) {
	r := rng("odin/crop", seed, i)
	// Multiply-shift maps 32 random bits onto 0..n−1; the bias (n/2³²) is negligible.
	pick := func(n int) int { return int((r.Uint64() >> 32) * uint64(n) >> 32) }
	x0 := pick(w - Side + 1)
	y0 := pick(h - Side + 1)
	return x0, y0
}

// pngBuffers lets a png.Encoder reuse its compressor, whose set-up otherwise costs more than
// compressing a 32×32 image.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// encode saves r as PNG (quality 0, with enc) or JPEG at the given quality.
func encode(r raster, quality int, enc *png.Encoder) ([]byte, error) {
	m := image.NewRGBA(image.Rect(0, 0, r.w, r.h))
	n := r.w * r.h
	for k := range n {
		m.Pix[4*k], m.Pix[4*k+1], m.Pix[4*k+2], m.Pix[4*k+3] = r.pix[k], r.pix[n+k], r.pix[2*n+k], 255
	}
	var b bytes.Buffer
	var err error
	if quality > 0 {
		err = jpeg.Encode(&b, m, &jpeg.Options{Quality: quality})
	} else {
		err = enc.Encode(&b, m)
	}
	return b.Bytes(), err
}

// parallel runs do(0..n-1) on workers goroutines and returns the error of the lowest index that
// failed (every lower index has run), or ctx's error.
func parallel(ctx context.Context, n, workers int, do func(int) error, progress func(done, total int)) error {
	errs := make([]error, n)
	var next, firstBad atomic.Int64
	firstBad.Store(int64(n))
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= firstBad.Load() || ctx.Err() != nil {
					return
				}
				if err := do(int(i)); err != nil {
					errs[i] = err
					for {
						old := firstBad.Load()
						if i >= old || firstBad.CompareAndSwap(old, i) {
							break
						}
					}
					return
				}
				if progress != nil {
					mu.Lock()
					done++
					progress(done, n)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// naturalCompare orders strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			x := strings.TrimLeft(a[si:i], "0")
			y := strings.TrimLeft(b[sj:j], "0")
			if c := len(x) - len(y); c != 0 {
				return c
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b) // e.g. "01" and "1"
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func sortNatural(s []string) { slices.SortFunc(s, naturalCompare) }
