package dataset

import (
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

// fakeData makes a data folder with a small Tiny-ImageNet source, an LSUN source of mixed
// sizes, and a seed archive of Imagenet_resize.
func fakeData(t *testing.T) string {
	data := t.TempDir()
	for i := range 12 {
		m := flat(64, 64, color.NRGBA{byte(i * 20), byte(255 - i*20), 60, 255})
		write(t, filepath.Join(data, "tiny-imagenet-200", "test", "images", fmt.Sprintf("test_%d.JPEG", i)), encodeJPEG(t, m, 90))
	}
	for i, size := range [][2]int{{40, 50}, {100, 70}, {32, 32}} {
		m := flat(size[0], size[1], color.NRGBA{byte(i), 2, 3, 255})
		write(t, filepath.Join(data, "lsun-raw", "sub", fmt.Sprintf("%d.png", i)), encodePNG(t, m))
	}
	for i := range 3 {
		write(t, filepath.Join(data, "Imagenet_resize", "Imagenet_resize", fmt.Sprintf("%d.jpg", i)),
			encodeJPEG(t, flat(Side, Side, color.NRGBA{9, 9, 9, 255}), 75))
	}
	return data
}

func TestOpenOOD(t *testing.T) {
	data := fakeData(t)
	cache := t.TempDir()
	opt := Options{Data: data, Cache: cache}

	// The seed archive in the data folder comes first.
	d, err := Open("Imagenet_resize", opt)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "Imagenet_resize (seed archive)" || d.Len() != 3 {
		t.Errorf("%q, %d images", d.Name(), d.Len())
	}

	// A missing set says where it looked and how to get it.
	_, err = Open("Imagenet", opt)
	want := fmt.Sprintf("Imagenet: missing: no %s or %s; build it with `odin datasets build Imagenet` or fetch the seed's archive with `odin fetch Imagenet`",
		filepath.Join(data, "Imagenet", "test"), filepath.Join(cache, "Imagenet-seed", "Imagenet", "test"))
	if !errors.Is(err, ErrMissing) || err.Error() != want {
		t.Errorf("missing Imagenet:\n got %v\nwant %s", err, want)
	}
	o := opt
	o.Construction = "clean"
	_, err = Open("Imagenet_resize", o)
	want = fmt.Sprintf("Imagenet_resize: missing: no %s; build it with `odin datasets build Imagenet_resize --construction clean`",
		filepath.Join(cache, "Imagenet_resize-clean", "Imagenet_resize", "Imagenet_resize"))
	if !errors.Is(err, ErrMissing) || err.Error() != want {
		t.Errorf("missing clean Imagenet_resize:\n got %v\nwant %s", err, want)
	}

	// With Build, a missing set is built into the cache, and found there afterwards.
	calls := 0
	o.Build, o.Workers, o.Progress = true, 2, func(done, total int) { calls++ }
	d, err = Open("Imagenet_resize", o)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "Imagenet_resize (clean construction)" || d.Len() != 12 || calls != 12 {
		t.Errorf("built %q, %d images, %d progress calls", d.Name(), d.Len(), calls)
	}
	loc, err := Locate("Imagenet_resize", o)
	if err != nil || loc.From != "cache" || loc.Path != filepath.Join(cache, "Imagenet_resize-clean", "Imagenet_resize", "Imagenet_resize") {
		t.Errorf("Locate: %+v %v", loc, err)
	}
	calls = 0
	if _, err := Open("Imagenet_resize", o); err != nil || calls != 0 {
		t.Errorf("second open rebuilt (%d calls, %v)", calls, err)
	}
	// Image i is test_i (natural order), whose red level is 20i (flat, so unchanged by resizing,
	// but JPEG's colour conversion rounds).
	near := func(a byte, b int) bool { return int(a)-b <= 2 && b-int(a) <= 2 }
	for _, i := range []int{0, 2, 10, 11} {
		if p := pixels(t, d, i); !near(p[0], 20*i) || !near(p[1024], 255-20*i) {
			t.Errorf("image %d starts %d,%d, want %d,%d", i, p[0], p[1024], 20*i, 255-20*i)
		}
	}

	// Crops with a seed other than 0 have their own cache folder; LSUN comes from lsun-raw.
	o = Options{Data: data, Cache: cache, Seed: 4, Build: true}
	d, err = Open("LSUN", o)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "LSUN (seed construction, crop seed 4)" || d.Len() != 3 {
		t.Errorf("%q, %d images", d.Name(), d.Len())
	}
	if _, err := os.Stat(filepath.Join(cache, "LSUN-seed-s4", "LSUN", "test", "00002.jpg")); err != nil {
		t.Error(err)
	}
	d, err = Open("LSUN_resize", o)
	if err != nil || d.Name() != "LSUN_resize (seed construction)" {
		t.Fatalf("LSUN_resize: %v", err)
	}

	// iSUN cannot be built.
	_, err = Open("iSUN", o)
	want = fmt.Sprintf("iSUN: missing: no %s; fetch it with `odin fetch iSUN` (it cannot be built: its source images are not distributed)",
		filepath.Join(data, "iSUN", "iSUN_patches"))
	if !errors.Is(err, ErrMissing) || err.Error() != want {
		t.Errorf("iSUN: %v", err)
	}
	// Without a source, a build says what the source should be.
	_, err = Open("Imagenet", Options{Data: t.TempDir(), Cache: cache, Build: true})
	if err == nil || !strings.Contains(err.Error(), "tiny-imagenet-200") {
		t.Errorf("no source: %v", err)
	}
	// BuildCache refuses to overwrite without force.
	if _, err := BuildCache(context.Background(), "LSUN", o, false); !errors.Is(err, ErrExists) {
		t.Errorf("BuildCache over a build: %v", err)
	}
}

func TestOpenOther(t *testing.T) {
	data := fakeData(t)
	opt := Options{Data: data, Cache: t.TempDir()}
	for _, name := range []string{"Uniform", "Gaussian"} {
		d, err := Open(name, opt)
		if err != nil || d.Name() != name || d.Len() != 10000 {
			t.Fatalf("%s: %v", name, err)
		}
		o := opt
		o.Count, o.Seed = 7, 3
		d, err = Open(name, o)
		if err != nil || d.Len() != 7 {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "Uniform" && pixels32(t, d, 2)[5] != pixels32(t, Uniform(7, 3), 2)[5] {
			t.Error("Open's Uniform differs from Uniform(7, 3)")
		}
	}
	// A folder path.
	dir := filepath.Join(data, "lsun-raw")
	d, err := Open(dir, Options{Data: data, Folder: FolderOptions{Resize: ResizeMode{Filter: Box, Antialias: true}}})
	if err != nil || d.Name() != dir || d.Len() != 3 {
		t.Fatalf("folder: %v", err)
	}
	if _, err := Open(dir, Options{Data: data}); err == nil || !strings.Contains(err.Error(), "40x50") {
		t.Errorf("folder of wrong sizes: %v", err)
	}
	_, err = Open("imagenet_resize", opt)
	want := `"imagenet_resize": not a known set (cifar10, cifar100, Imagenet, Imagenet_resize, LSUN, LSUN_resize, iSUN, Uniform, Gaussian) nor a folder`
	if err == nil || err.Error() != want {
		t.Errorf("unknown name: %v", err)
	}
	_, err = Open("cifar100", opt)
	want = "cifar100: missing: no " + filepath.Join(data, "cifar-100-binary", "test.bin") + "; fetch it with `odin fetch cifar100`"
	if !errors.Is(err, ErrMissing) || err.Error() != want {
		t.Errorf("cifar100: %v", err)
	}
	if _, err := Open("iSUN", Options{Data: data, Construction: "clean"}); err == nil || !strings.Contains(err.Error(), "only the seed's archive") {
		t.Errorf("clean iSUN: %v", err)
	}
	if _, err := Open("LSUN", Options{Data: data, Construction: "sharp"}); err == nil || !strings.Contains(err.Error(), `unknown construction "sharp"`) {
		t.Errorf("bad construction: %v", err)
	}
}

func TestOpenCIFAR10Real(t *testing.T) {
	path := datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin")
	data := filepath.Dir(filepath.Dir(path))
	d, err := Open("cifar10", Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "CIFAR-10 test" || d.Len() != 10000 || len(d.Classes()) != 10 {
		t.Errorf("%q %d %v", d.Name(), d.Len(), d.Classes())
	}
}

func pixels32(t *testing.T, d Dataset, i int) []float32 {
	x := make([]float32, Pixels)
	if _, err := d.Image(i, x); err != nil {
		t.Fatal(err)
	}
	return x
}

func ExampleParseConstruction() {
	for _, s := range []string{"seed", "clean", "bicubic-aa-q90", "bilinear-aa-png"} {
		c, _ := ParseConstruction(s)
		fmt.Printf("%s: %v antialias=%v jpeg=%d\n", c.Name, c.Filter, c.Antialias, c.JPEGQuality)
	}
	// Output:
	// seed: nearest antialias=false jpeg=75
	// clean: bilinear antialias=true jpeg=0
	// bicubic-aa-q90: bicubic antialias=true jpeg=90
	// clean: bilinear antialias=true jpeg=0
}
