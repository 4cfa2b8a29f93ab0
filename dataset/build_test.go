package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// tinySubset copies the first n Tiny-ImageNet test images (test_0 … test_{n−1}) into a folder.
func tinySubset(t *testing.T, n int) string {
	t.Helper()
	src := datadir.ForTest(t, "tiny-imagenet-200/test/images")
	dir := t.TempDir()
	for i := range n {
		name := fmt.Sprintf("test_%d.JPEG", i)
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), b)
	}
	return dir
}

// readSet returns the files of a built image folder by name.
func readSet(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func build(t *testing.T, opt BuildOptions) (string, map[string][]byte) {
	t.Helper()
	if opt.Out == "" {
		opt.Out = t.TempDir()
	}
	dir, err := Build(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	layout, _ := Layout(opt.Name)
	if want := filepath.Join(opt.Out, filepath.FromSlash(layout)); dir != want {
		t.Fatalf("built into %s, want %s", dir, want)
	}
	return dir, readSet(t, dir)
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestBuildTinyImageNet(t *testing.T) {
	const n = 200
	src := tinySubset(t, n)

	// The seed construction: deterministic whatever the number of workers.
	dir, a := build(t, BuildOptions{Name: "Imagenet_resize", Source: src, Workers: 1})
	_, b := build(t, BuildOptions{Name: "Imagenet_resize", Source: src, Construction: "seed", Workers: 3})
	if len(a) != n || !sameFiles(a, b) {
		t.Fatalf("two builds differ (%d and %d files)", len(a), len(b))
	}
	if _, ok := a["00000.jpg"]; !ok {
		t.Fatal("no 00000.jpg")
	}
	if _, ok := a["00199.jpg"]; !ok {
		t.Fatal("no 00199.jpg")
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "BUILD.txt")); err != nil {
		t.Error(err)
	}
	f, err := OpenFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != n {
		t.Fatalf("%d images", f.Len())
	}
	x := make([]float32, Pixels)
	for i := range n {
		if _, err := f.Image(i, x); err != nil {
			t.Fatal(err)
		}
	}

	// Nearest without JPEG takes source pixel (2x+1, 2y+1) exactly; file i is test_i.
	_, nn := build(t, BuildOptions{Name: "Imagenet_resize", Source: src, Construction: "nearest-png", Workers: 2})
	for _, i := range []int{0, 7, 150, 199} {
		s, err := decodeFile(filepath.Join(src, fmt.Sprintf("test_%d.JPEG", i)))
		if err != nil {
			t.Fatal(err)
		}
		r, err := decode("png", nn[fmt.Sprintf("%05d.png", i)])
		if err != nil {
			t.Fatal(err)
		}
		for c := range 3 {
			for y := range Side {
				for x := range Side {
					if r.pix[c*1024+y*32+x] != s.pix[c*4096+(2*y+1)*64+2*x+1] {
						t.Fatalf("image %d channel %d (%d,%d) is not source pixel (%d,%d)", i, c, x, y, 2*x+1, 2*y+1)
					}
				}
			}
		}
	}

	// The clean construction writes exactly what a folder resized on the fly yields.
	cdir, _ := build(t, BuildOptions{Name: "Imagenet_resize", Source: src, Construction: "clean", Workers: 2})
	built, err := OpenFolder(cdir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := OpenFolder(src, FolderOptions{Resize: ResizeMode{Filter: Bilinear, Antialias: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 10, 99, 100, 199} {
		j := i // raw is in byte order: test_0, test_1, test_10, test_100, …
		for k := range raw.Len() {
			if filepath.Base(raw.Path(k)) == fmt.Sprintf("test_%d.JPEG", i) {
				j = k
			}
		}
		if !bytes.Equal(pixels(t, built, i), pixels(t, raw, j)) {
			t.Errorf("clean image %d differs from %s resized", i, raw.Path(j))
		}
	}
}

func TestBuildCrops(t *testing.T) {
	const n = 60
	src := tinySubset(t, n)
	_, a := build(t, BuildOptions{Name: "Imagenet", Source: src, Seed: 1, Workers: 2})
	_, b := build(t, BuildOptions{Name: "Imagenet", Source: src, Seed: 1, Workers: 1})
	_, c := build(t, BuildOptions{Name: "Imagenet", Source: src, Seed: 2, Workers: 2})
	if len(a) != n || !sameFiles(a, b) {
		t.Fatal("two crop builds with seed 1 differ")
	}
	differ := 0
	for k := range a {
		if !bytes.Equal(a[k], c[k]) {
			differ++
		}
	}
	if differ < n*9/10 {
		t.Errorf("seeds 1 and 2 give %d different crops of %d", differ, n)
	}
	// Losslessly, crop i is the 32×32 window of test_i at cropOffset(seed, i).
	dir, p := build(t, BuildOptions{Name: "Imagenet", Source: src, Seed: 5, Construction: "clean"})
	if filepath.Base(dir) != "test" {
		t.Errorf("crop set in %s, want …/Imagenet/test", dir)
	}
	offsets := map[[2]int]bool{}
	for i := range n {
		s, err := decodeFile(filepath.Join(src, fmt.Sprintf("test_%d.JPEG", i)))
		if err != nil {
			t.Fatal(err)
		}
		r, err := decode("png", p[fmt.Sprintf("%05d.png", i)])
		if err != nil {
			t.Fatal(err)
		}
		x0, y0 := cropOffset(5, i, 64, 64)
		if x0 < 0 || y0 < 0 || x0 > 32 || y0 > 32 {
			t.Fatalf("offset (%d,%d)", x0, y0)
		}
		offsets[[2]int{x0, y0}] = true
		if !bytes.Equal(r.pix, s.crop(x0, y0).pix) {
			t.Fatalf("crop %d is not the window at (%d,%d)", i, x0, y0)
		}
	}
	if len(offsets) < n/2 {
		t.Errorf("only %d distinct offsets in %d crops", len(offsets), n)
	}
}

func TestBuildAtomicAndErrors(t *testing.T) {
	src := t.TempDir()
	for i := range 30 {
		m := flat(40+i, 36, color.NRGBA{byte(i * 8), 100, 200, 255})
		write(t, filepath.Join(src, fmt.Sprintf("img%d.png", i)), encodePNG(t, m))
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Build(ctx, BuildOptions{Name: "LSUN", Source: src, Out: out, Workers: 2,
		Progress: func(done, total int) {
			if done == 5 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("cancelled build left %v", entries)
	}
	dir, err := Build(context.Background(), BuildOptions{Name: "LSUN", Source: src, Out: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(readSet(t, dir)) != 30 || dir != filepath.Join(out, "LSUN", "test") {
		t.Fatalf("built %s", dir)
	}
	if _, err := Build(context.Background(), BuildOptions{Name: "LSUN", Source: src, Out: out}); !errors.Is(err, ErrExists) {
		t.Errorf("second build: %v, want ErrExists", err)
	}
	// Force replaces the set (here with PNG files).
	if _, err := Build(context.Background(), BuildOptions{Name: "LSUN", Source: src, Out: out, Construction: "clean", Force: true}); err != nil {
		t.Fatal(err)
	}
	set := readSet(t, dir)
	if _, ok := set["00029.png"]; !ok || len(set) != 30 {
		t.Errorf("forced rebuild has %d files", len(set))
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("out holds %v, want only LSUN", entries)
	}

	bad := []struct {
		opt  BuildOptions
		want string
	}{
		{BuildOptions{Name: "iSUN", Source: src}, "build iSUN: cannot build it (buildable: Imagenet, Imagenet_resize, LSUN, LSUN_resize)"},
		{BuildOptions{Name: "LSUN", Source: src, Construction: "blurry"}, `build LSUN: unknown construction "blurry"`},
		{BuildOptions{Name: "LSUN", Source: src, Construction: "clean", Filter: Box}, "build LSUN: give either a construction or a filter"},
		{BuildOptions{Name: "LSUN", Source: filepath.Join(src, "none")}, "build LSUN: source folder " + filepath.Join(src, "none") + ": no such folder"},
	}
	for _, c := range bad {
		c.opt.Out = t.TempDir()
		if _, err := Build(context.Background(), c.opt); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opt, err, c.want)
		}
	}
	// Images too small to crop, and files that are not images, are errors naming them.
	small := t.TempDir()
	write(t, filepath.Join(small, "a.png"), encodePNG(t, flat(40, 40, color.NRGBA{A: 255})))
	write(t, filepath.Join(small, "b.png"), encodePNG(t, flat(31, 40, color.NRGBA{A: 255})))
	_, err = Build(context.Background(), BuildOptions{Name: "LSUN", Source: small, Out: t.TempDir()})
	if want := filepath.Join(small, "b.png") + ": image is 31x40, too small for a 32x32 crop"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("small image: %v", err)
	}
	// Resizing accepts any size.
	rdir, err := Build(context.Background(), BuildOptions{Name: "LSUN_resize", Source: small, Out: t.TempDir()})
	if err != nil || len(readSet(t, rdir)) != 2 {
		t.Errorf("resize of small images: %v", err)
	}
	write(t, filepath.Join(small, "c.txt"), []byte("hello"))
	_, err = Build(context.Background(), BuildOptions{Name: "LSUN_resize", Source: small, Out: t.TempDir()})
	if want := filepath.Join(small, "c.txt") + ": not a PNG or JPEG image"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("text file: %v", err)
	}
}

func TestConstructions(t *testing.T) {
	cs := Constructions()
	if len(cs) != 2 || cs[0].Name != "seed" || cs[0].Filter != Nearest || cs[0].Antialias || cs[0].JPEGQuality != 75 ||
		cs[1].Name != "clean" || cs[1].Filter != Bilinear || !cs[1].Antialias || cs[1].JPEGQuality != 0 {
		t.Fatalf("constructions %+v", cs)
	}
	for in, want := range map[string]string{
		"": "seed", "seed": "seed", "clean": "clean", "nearest-q75": "seed", "bilinear-aa-png": "clean",
		"bicubic-aa-png": "bicubic-aa-png", "lanczos-q90": "lanczos-q90", "box-aa-q100": "box-aa-q100", "nearest-png": "nearest-png",
	} {
		c, err := ParseConstruction(in)
		if err != nil || c.Name != want || c.Label() != want {
			t.Errorf("%q: %q (%v)", in, c.Name, err)
		}
	}
	for _, in := range []string{"dirty", "nearest-aa-png", "bilinear-q0", "bilinear-q101", "bilinear", "bilinear-xx-png", "hamming-png"} {
		if _, err := ParseConstruction(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if _, err := NewConstruction(Bilinear, false, -1); err == nil {
		t.Error("quality -1 accepted")
	}
}
