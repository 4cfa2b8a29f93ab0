package dataset

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// FolderOptions controls OpenFolder.
type FolderOptions struct {
	// Resize says what to do with images that are not 32×32; the zero value refuses them.
	Resize ResizeMode
	// SkipBad skips files that are not PNG or JPEG images, or whose header cannot be read, instead
	// of failing. Skipped files are reported to OnSkip and by Folder.Skipped.
	SkipBad bool
	// OnSkip, if set, is called once for each skipped file, during OpenFolder.
	OnSkip func(path string, err error)
}

// Skipped is a file OpenFolder left out, and why.
type Skipped struct {
	Path string
	Err  error
}

// Folder is a folder of PNG and JPEG images, at any depth, read on demand.
type Folder struct {
	name    string
	dir     string
	files   []string // slash-separated, relative to dir, in order
	sizes   []image.Point
	resize  ResizeMode
	skipped []Skipped
	pre     atomic.Pointer[[]byte] // all images as 8-bit planes, once Preload has run

	digestMu sync.Mutex
	digest   string // content digest, once known (see Digest)
}

// OpenFolder lists the images under dir. The order is that of the file paths relative to dir,
// '/'-separated, sorted as byte strings (for a flat folder, the order of torchvision's
// ImageFolder). Files and folders whose names start with '.' are ignored, and symbolic links to
// folders are not followed. Only file headers are read here; pixels are decoded by Image.
func OpenFolder(dir string, opt FolderOptions) (*Folder, error) {
	return openFolder(dir, opt, false)
}

// openFolder is OpenFolder; with digest it reads every file whole, rather than its header, and
// records the folder's content digest as it goes.
func openFolder(dir string, opt FolderOptions, digest bool) (*Folder, error) {
	if err := opt.Resize.valid(); err != nil {
		return nil, fmt.Errorf("folder %s: %v", dir, err)
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	f := &Folder{name: dir, dir: dir, resize: opt.Resize}
	h := newDigest()
	for _, rel := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		var size image.Point
		var err error
		if digest {
			size, err = hashHeader(h, path, rel)
		} else {
			size, err = readHeader(path)
		}
		if err != nil {
			if opt.SkipBad && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
				f.skipped = append(f.skipped, Skipped{Path: path, Err: err})
				if opt.OnSkip != nil {
					opt.OnSkip(path, err)
				}
				continue
			}
			return nil, err
		}
		if size != (image.Point{Side, Side}) && opt.Resize.Filter == 0 {
			return nil, fmt.Errorf("%s: image is %dx%d, want %dx%d (choose a resize filter to resize it)",
				path, size.X, size.Y, Side, Side)
		}
		f.files = append(f.files, rel)
		f.sizes = append(f.sizes, size)
	}
	if digest {
		f.digest = hex.EncodeToString(h.Sum(nil))
	}
	if len(f.files) == 0 {
		if len(f.skipped) > 0 {
			return nil, fmt.Errorf("folder %s: no PNG or JPEG images (%d other files skipped)", dir, len(f.skipped))
		}
		return nil, fmt.Errorf("folder %s: no PNG or JPEG images", dir)
	}
	return f, nil
}

// listFiles returns the regular files under dir (and symbolic links to regular files) as
// slash-separated relative paths, skipping hidden names.
func listFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("folder %s: no such folder", dir)
		}
		return nil, fmt.Errorf("folder %s: %v", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("folder %s: not a folder", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				return err
			}
			mode = st.Mode().Type()
		}
		if !mode.IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("folder %s: %v", dir, err)
	}
	return files, nil
}

// Name returns the name given by Open, or the folder path.
func (f *Folder) Name() string { return f.name }

// Len returns the number of images.
func (f *Folder) Len() int { return len(f.files) }

// Classes returns nil: a folder's images have no labels.
func (f *Folder) Classes() []string { return nil }

// Path returns the file of image i.
func (f *Folder) Path(i int) string {
	if i < 0 || i >= len(f.files) {
		return ""
	}
	return filepath.Join(f.dir, filepath.FromSlash(f.files[i]))
}

// Skipped returns the files OpenFolder skipped.
func (f *Folder) Skipped() []Skipped { return f.skipped }

// Image decodes image i (or copies it, after Preload) and returns label -1.
func (f *Folder) Image(i int, dst []float32) (int, error) {
	if err := checkArgs(f.name, len(f.files), i, dst); err != nil {
		return 0, err
	}
	if pre := f.pre.Load(); pre != nil {
		toFloat(dst, (*pre)[i*Pixels:(i+1)*Pixels])
		return -1, nil
	}
	r, err := f.load(i)
	if err != nil {
		return 0, err
	}
	toFloat(dst, r.pix)
	return -1, nil
}

func (f *Folder) load(i int) (raster, error) {
	path := f.Path(i)
	r, err := decodeFile(path)
	if err != nil {
		return raster{}, err
	}
	if (image.Point{r.w, r.h}) != f.sizes[i] {
		return raster{}, fmt.Errorf("%s: image changed since the folder was opened", path)
	}
	if r.w != Side || r.h != Side {
		if f.resize.Filter == 0 {
			return raster{}, fmt.Errorf("%s: image is %dx%d, want %dx%d", path, r.w, r.h, Side, Side)
		}
		r = r.resize(Side, Side, f.resize)
	}
	return r, nil
}

// Preload decodes every image with the given number of goroutines and keeps them in memory
// (3 KB each), so that later calls to Image only convert. It returns the error of the first image
// (in order) that fails, and keeps nothing in that case.
func (f *Folder) Preload(ctx context.Context, workers int) error {
	if f.pre.Load() != nil {
		return nil
	}
	n := len(f.files)
	pix := make([]byte, n*Pixels)
	load := func(i int) error {
		r, err := f.load(i)
		if err == nil {
			copy(pix[i*Pixels:], r.pix)
		}
		return err
	}
	if err := parallel(ctx, n, workers, load, nil); err != nil {
		return err
	}
	f.pre.Store(&pix)
	return nil
}

// hashHeader reads the file at path whole, adds it to the digest h under rel and returns its
// image size. A file that cannot be read is added as absent, so the digest still differs.
func hashHeader(h hash.Hash, path, rel string) (image.Point, error) {
	data, err := readImageFile(path)
	if err != nil {
		addFile(h, rel, nil)
		return image.Point{}, err
	}
	addFile(h, rel, data)
	return config(path, sniff(data), bytes.NewReader(data))
}
