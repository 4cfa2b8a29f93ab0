package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/odin-ood/odin/internal/datadir"
)

// Options says where Open looks for a set and how generated and built sets are made.
type Options struct {
	// Data is the data folder; empty means datadir.Data("") ($ODIN_DATA or ./data).
	Data string
	// Cache is the folder of built sets; empty means datadir.Cache("").
	Cache string
	// Count is the number of noise images; 0 means 10,000 (the CIFAR test sets' size).
	Count int
	// Seed seeds the noise sets and the crops of built Imagenet and LSUN sets.
	Seed uint64
	// Construction chooses how the Tiny-ImageNet and LSUN sets are made (see ParseConstruction);
	// empty means "seed".
	Construction string
	// Build builds a missing Tiny-ImageNet or LSUN set into the cache from its raw source.
	Build bool
	// Workers is the number of goroutines a build uses; 0 means 1.
	Workers int
	// Progress, if set, receives a build's progress.
	Progress func(done, total int)
	// Folder applies to sets opened from folders.
	Folder FolderOptions
	// Transform prepares the images of sets named FolderPrefix+PATH (an ImageFolder); it must
	// set Crop, the side the network takes.
	Transform Transform
}

// FolderPrefix names an ImageNet-style folder as a set: "folder:PATH" is PATH/<class>/…/<image>,
// labelled by its sorted class folders as torchvision's ImageFolder, each image transformed by
// Options.Transform (OpenImageFolder). A PATH without sub-folders is the unlabelled set of the
// images in it, in sorted order (an OOD set). A plain folder path is a folder of 32×32 images.
const FolderPrefix = "folder:"

// openImages opens PATH of a FolderPrefix name: an ImageFolder, or the images of a folder
// without sub-folders, unlabelled.
func openImages(root string, t Transform) (*ImageFolder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if isDirFollow(root, e) {
			return OpenImageFolder(root, t)
		}
	}
	if err := t.Check(); err != nil {
		return nil, err
	}
	if t.Crop <= 0 {
		return nil, fmt.Errorf("image folder %s: the transform needs a crop size", root)
	}
	files, err := walkImages(root)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("image folder %s: no class folders and no images", root)
	}
	labels := make([]int, len(files))
	for i := range labels {
		labels[i] = -1
	}
	return &ImageFolder{root: root, t: t, files: files, labels: labels, side: t.Crop}, nil
}

// imageFolderPath returns PATH of a name FolderPrefix+PATH.
func imageFolderPath(name string) (string, bool) {
	p, ok := strings.CutPrefix(name, FolderPrefix)
	return p, ok
}

// Location is where Open finds a set.
type Location struct {
	// Path is the file or folder read; empty for generated sets.
	Path string
	// From is "data" (the data folder: CIFAR files or a seed archive), "cache" (a set built
	// there), "generated" (noise) or "path" (a folder named directly).
	From string
	// Desc names the set as Dataset.Name will.
	Desc string
}

// ErrMissing is wrapped by the errors of Locate and Open for known sets that are absent.
var ErrMissing = errors.New("missing")

func (opt Options) dirs() (data, cache string, err error) {
	data = opt.Data
	if data == "" {
		data = datadir.Data("")
	}
	cache = opt.Cache
	if cache == "" {
		cache, err = datadir.Cache("")
	}
	return data, cache, err
}

// CacheDir returns the folder Build writes the named set into when asked for by opt, and
// where Open looks for it: <cache>/<name>-<construction>, with "-s<seed>" appended for the
// cropped sets when Seed is not 0. The images are in the seed's layout below it.
func CacheDir(name string, opt Options) (string, error) {
	crop, ok := buildable(name)
	if !ok {
		return "", errNotBuildable(name)
	}
	c, err := ParseConstruction(opt.Construction)
	if err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	_, cache, err := opt.dirs()
	if err != nil {
		return "", err
	}
	dir := name + "-" + c.Name
	if crop && opt.Seed != 0 {
		dir += fmt.Sprintf("-s%d", opt.Seed)
	}
	return filepath.Join(cache, dir), nil
}

// Locate says where Open would find the set, without reading it or building it. For a known set
// that is absent the error wraps ErrMissing and says where it looked and which command provides it.
func Locate(name string, opt Options) (Location, error) {
	data, _, derr := opt.dirs()
	d, known := Lookup(name)
	if p, ok := imageFolderPath(name); ok {
		if !isDir(p) {
			return Location{}, fmt.Errorf("%s: %w: no folder %s", name, ErrMissing, p)
		}
		return Location{Path: p, From: "path", Desc: name}, nil
	}
	switch {
	case !known:
		st, err := os.Stat(name)
		if err != nil || !st.IsDir() {
			return Location{}, fmt.Errorf("%q: not a known set (%s) nor a folder", name, strings.Join(Names(), ", "))
		}
		return Location{Path: name, From: "path", Desc: name}, nil
	case d.Kind == KindCIFAR:
		p := filepath.Join(data, filepath.FromSlash(d.Path))
		if _, err := os.Stat(p); err != nil {
			return Location{}, fmt.Errorf("%s: %w: no %s; fetch it with `odin fetch %s`", name, ErrMissing, p, name)
		}
		return Location{Path: p, From: "data", Desc: d.Display + " test"}, nil
	case d.Kind == KindNoise:
		return Location{From: "generated", Desc: name}, nil
	}
	c, err := ParseConstruction(opt.Construction)
	if err != nil {
		return Location{}, fmt.Errorf("%s: %v", name, err)
	}
	var looked []string
	if c.Name == "seed" {
		p := filepath.Join(data, filepath.FromSlash(d.Path))
		if isDir(p) {
			return Location{Path: p, From: "data", Desc: name + " (seed archive)"}, nil
		}
		looked = append(looked, p)
	}
	if !d.Buildable() {
		if c.Name != "seed" {
			return Location{}, fmt.Errorf("%s: only the seed's archive exists; it has no %s construction", name, c.Name)
		}
		return Location{}, fmt.Errorf("%s: %w: no %s; fetch it with `odin fetch %s` (it cannot be built: its source images are not distributed)",
			name, ErrMissing, looked[0], name)
	}
	if derr != nil {
		return Location{}, fmt.Errorf("%s: %w: no %s, and %v", name, ErrMissing, strings.Join(looked, " or "), derr)
	}
	return locateBuilt(d, c, opt, looked)
}

// locateBuilt looks for a build of a buildable set in the cache. A build whose image count
// differs from the one its manifest records is an error wrapping ErrStale.
func locateBuilt(d Descriptor, c Construction, opt Options, looked []string) (Location, error) {
	name := d.Name
	out, err := CacheDir(name, opt)
	if err != nil {
		return Location{}, err
	}
	desc := fmt.Sprintf("%s (%s construction)", name, c.Name)
	if d.Crop && opt.Seed != 0 {
		desc = fmt.Sprintf("%s (%s construction, crop seed %d)", name, c.Name, opt.Seed)
	}
	p := filepath.Join(out, filepath.FromSlash(d.Path))
	if isDir(p) {
		if _, err := checkCount(p); err != nil {
			return Location{}, fmt.Errorf("%s: %w", name, err)
		}
		return Location{Path: p, From: "cache", Desc: desc}, nil
	}
	looked = append(looked, p)
	hint := "build it with `odin datasets build " + name
	if c.Name != "seed" {
		hint += " --construction " + c.Name
	}
	if d.Crop && opt.Seed != 0 {
		hint += fmt.Sprintf(" --seed %d", opt.Seed)
	}
	hint += "`"
	if c.Name == "seed" {
		hint += " or fetch the seed's archive with `odin fetch " + name + "`"
	}
	return Location{}, fmt.Errorf("%s: %w: no %s; %s", name, ErrMissing, strings.Join(looked, " or "), hint)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Open opens a set by name: cifar10 (<data>/cifar-10-batches-bin/test_batch.bin), cifar100
// (<data>/cifar-100-binary/test.bin), the seed's OOD sets Imagenet, Imagenet_resize, LSUN,
// LSUN_resize and iSUN, the noise sets Uniform and Gaussian, an ImageNet-style folder named
// FolderPrefix+PATH, or else a folder path (of 32×32 images). See the
// package documentation for where the OOD sets are looked for.
func Open(name string, opt Options) (Dataset, error) {
	return OpenContext(context.Background(), name, opt)
}

// OpenContext is Open with a context that can interrupt a build.
func OpenContext(ctx context.Context, name string, opt Options) (Dataset, error) {
	if p, ok := imageFolderPath(name); ok {
		return openImages(p, opt.Transform)
	}
	loc, err := Locate(name, opt)
	if loc, err = buildIfAsked(ctx, name, opt, loc, err); err != nil {
		return nil, err
	}
	d, _ := Lookup(name)
	switch d.Kind {
	case KindCIFAR:
		return openCIFAR(loc.Path, d.Labels)
	case KindNoise:
		n := opt.Count
		if n == 0 {
			n = 10000
		}
		if n < 0 {
			return nil, fmt.Errorf("%s: negative count %d", name, n)
		}
		if name == "Uniform" {
			return Uniform(n, opt.Seed), nil
		}
		return Gaussian(n, opt.Seed), nil
	}
	var f *Folder
	if loc.From == "cache" {
		f, err = openBuilt(loc.Path, opt.Folder)
		if errors.Is(err, ErrStale) && opt.Build {
			if _, err = BuildCache(ctx, name, opt, true); err == nil {
				f, err = openBuilt(loc.Path, opt.Folder)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else if f, err = openFolder(loc.Path, opt.Folder, loc.From == "data"); err != nil {
		// The seed's archives hold small files: reading them whole instead of their headers
		// gives their digest at little cost. A folder named by path may hold large images.
		return nil, err
	}
	f.name = loc.Desc
	return f, nil
}

// buildIfAsked builds a buildable set that Locate found missing, or stale (its image count
// differs from its manifest), when opt.Build is set, and locates it again.
func buildIfAsked(ctx context.Context, name string, opt Options, loc Location, err error) (Location, error) {
	missing, stale := errors.Is(err, ErrMissing), errors.Is(err, ErrStale)
	if _, ok := buildable(name); !ok || !opt.Build || (!missing && !stale) {
		return loc, err
	}
	if _, berr := BuildCache(ctx, name, opt, stale); berr != nil {
		if ctx.Err() != nil {
			return loc, berr
		}
		// Say where it was looked for and how to get it, then why it could not be built.
		return loc, fmt.Errorf("%w (and it cannot be built here: %v)", err, berr)
	}
	return Locate(name, opt)
}

// BuildCache builds the named set from its raw source in the data folder into CacheDir(name, opt),
// with opt's construction, seed, workers and progress, and returns the folder of images. An
// existing build is an error wrapping ErrExists unless force is set.
func BuildCache(ctx context.Context, name string, opt Options, force bool) (string, error) {
	data, _, err := opt.dirs()
	if err != nil {
		return "", err
	}
	src, err := SourceDir(name, data)
	if err != nil {
		return "", err
	}
	if !isDir(src) {
		what := "the Tiny-ImageNet test images (tiny-imagenet-200.zip from cs231n.stanford.edu, unzipped into the data folder)"
		if strings.HasPrefix(name, "LSUN") {
			what = "a folder of LSUN test images of any size that you provide"
		}
		return "", fmt.Errorf("build %s: no source folder %s: it should hold %s", name, src, what)
	}
	out, err := CacheDir(name, opt)
	if err != nil {
		return "", err
	}
	return Build(ctx, BuildOptions{
		Name: name, Source: src, Out: out, Construction: opt.Construction,
		Seed: opt.Seed, Workers: opt.Workers, Force: force, Progress: opt.Progress,
	})
}
