package dataset

import (
	"encoding/json"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
)

// allocated returns the bytes the heap allocated while fn ran, an upper bound on the memory
// fn's work held at its peak.
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// oneLine fails unless err is one line wrapping target and containing want.
func oneLine(t *testing.T, err, target error, want string) {
	t.Helper()
	if err == nil || !errors.Is(err, target) || strings.ContainsAny(err.Error(), "\n\r") || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v: want one line wrapping %v containing %q", err, target, want)
	}
}

// TestBuiltSetChecked: with one image deleted from a built set, the next image silently took its
// index and `datasets list` said 9999 images. A built set now records its count and content
// digest, and Locate (the count) and Open (the digest) refuse a set that differs, or rebuild it
// when asked to build.
func TestBuiltSetChecked(t *testing.T) {
	data, cache := fakeData(t), t.TempDir()
	opt := Options{Data: data, Cache: cache, Construction: "clean", Build: true}
	d, err := Open("Imagenet_resize", opt)
	if err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(cache, "Imagenet_resize-clean", "Imagenet_resize")
	imgs := filepath.Join(top, "Imagenet_resize")
	var m manifest
	b, err := os.ReadFile(filepath.Join(top, manifestName))
	if err != nil || json.Unmarshal(b, &m) != nil || m.Images != 12 || len(m.SHA256) != 64 {
		t.Fatalf("manifest %s: %v", b, err)
	}
	if got := d.(*Folder).ContentDigest(); got != m.SHA256 {
		t.Errorf("ContentDigest %s, manifest %s", got, m.SHA256)
	}
	// The digest is the same whether computed on open or afterwards from the files.
	plain, err := OpenFolder(imgs, FolderOptions{})
	if err != nil || plain.ContentDigest() != m.SHA256 {
		t.Fatalf("digest of the folder opened plainly: %v", err)
	}

	noBuild := opt
	noBuild.Build = false
	// One byte of one image changed: the count still matches, the digest does not.
	victim := filepath.Join(imgs, "00003.png")
	orig, _ := os.ReadFile(victim)
	changed := slices.Clone(orig)
	changed[len(changed)-5] ^= 1
	write(t, victim, changed)
	if _, err := Locate("Imagenet_resize", noBuild); err != nil {
		t.Errorf("Locate checks only the count: %v", err)
	}
	var got uint64
	got = allocated(func() { _, err = Open("Imagenet_resize", noBuild) })
	oneLine(t, err, ErrStale, "Imagenet_resize: changed since it was built: the content of "+imgs+" differs from what was built")
	if got > 4<<20 {
		t.Errorf("%d bytes allocated checking 12 images", got)
	}

	// One image deleted: Locate refuses it, so `datasets list` cannot report a wrong count.
	write(t, victim, orig)
	if err := os.Remove(filepath.Join(imgs, "00005.png")); err != nil {
		t.Fatal(err)
	}
	_, err = Locate("Imagenet_resize", noBuild)
	oneLine(t, err, ErrStale, "Imagenet_resize: changed since it was built: "+imgs+" holds 11 images, 12 were built")
	_, err = Open("Imagenet_resize", noBuild)
	oneLine(t, err, ErrStale, "holds 11 images, 12 were built")

	// With Build, it is rebuilt.
	d, err = Open("Imagenet_resize", opt)
	if err != nil || d.Len() != 12 {
		t.Fatalf("rebuild: %v", err)
	}
	if got := d.(*Folder).ContentDigest(); got != m.SHA256 {
		t.Errorf("rebuilt set's digest %s, first build's %s", got, m.SHA256)
	}

	// A build made before manifests is checked against the count in its BUILD.txt.
	if err := os.Remove(filepath.Join(top, manifestName)); err != nil {
		t.Fatal(err)
	}
	if d, err := Open("Imagenet_resize", noBuild); err != nil || d.Len() != 12 {
		t.Fatalf("build without a manifest: %v", err)
	}
	if err := os.Remove(filepath.Join(imgs, "00000.png")); err != nil {
		t.Fatal(err)
	}
	_, err = Locate("Imagenet_resize", noBuild)
	oneLine(t, err, ErrStale, "holds 11 images, 12 were built")
}

// TestDigests: every kind of set has a content digest, which changes with its content.
func TestDigests(t *testing.T) {
	u1, u2, g1 := Uniform(10, 1).ContentDigest(), Uniform(10, 2).ContentDigest(), Gaussian(10, 1).ContentDigest()
	if len(u1) != 64 || u1 == u2 || u1 == g1 || Uniform(11, 1).ContentDigest() == u1 {
		t.Errorf("noise digests %s %s %s", u1, u2, g1)
	}
	data := fakeData(t)
	a, err := OpenFolder(filepath.Join(data, "Imagenet_resize"), FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d1 := a.ContentDigest()
	if err := os.Rename(filepath.Join(data, "Imagenet_resize", "Imagenet_resize", "2.jpg"), filepath.Join(data, "Imagenet_resize", "Imagenet_resize", "3.jpg")); err != nil {
		t.Fatal(err)
	}
	b, err := OpenFolder(filepath.Join(data, "Imagenet_resize"), FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d2 := b.ContentDigest(); len(d1) != 64 || d1 == d2 {
		t.Errorf("renaming a file kept the digest %s", d1)
	}
}

// TestDescriptors checks the table against the functions that read it.
func TestDescriptors(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "cifar10,cifar100,Imagenet,Imagenet_resize,LSUN,LSUN_resize,iSUN,Uniform,Gaussian" {
		t.Errorf("Names: %s", got)
	}
	if got := strings.Join(OODNames(), ","); got != "Imagenet,Imagenet_resize,LSUN,LSUN_resize,iSUN,Uniform,Gaussian" {
		t.Errorf("OODNames: %s", got)
	}
	if got := strings.Join(InNames(), ","); got != "cifar10,cifar100" {
		t.Errorf("InNames: %s", got)
	}
	if got := strings.Join(BuildableNames(), ","); got != "Imagenet,Imagenet_resize,LSUN,LSUN_resize" {
		t.Errorf("BuildableNames: %s", got)
	}
	for _, d := range Descriptors() {
		layout, ok := Layout(d.Name)
		if ok != (d.Kind == KindFolder) || (ok && layout != d.Path) {
			t.Errorf("%s: Layout %q %v", d.Name, layout, ok)
		}
		crop, ok := buildable(d.Name)
		if ok != d.Buildable() || crop != d.Crop {
			t.Errorf("%s: buildable %v %v", d.Name, crop, ok)
		}
		if d.Display == "" || d.About == "" || d.Role == 0 || d.Kind == 0 {
			t.Errorf("%s: incomplete descriptor %+v", d.Name, d)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup of an unknown name")
	}
}

// TestImageFolderDigest: an ImageFolder's digest covers its images, their classes and the
// transform.
func TestImageFolderDigest(t *testing.T) {
	root := t.TempDir()
	for i, class := range []string{"cat", "dog"} {
		write(t, filepath.Join(root, class, "a.png"), encodePNG(t, flat(40, 40, color.NRGBA{byte(i), 2, 3, 255})))
	}
	digest := func(tr Transform) string {
		f, err := OpenImageFolder(root, tr)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.Digest()
		if err != nil || len(d) != 64 || f.ContentDigest() != d {
			t.Fatalf("digest %q: %v", d, err)
		}
		return d
	}
	d1 := digest(Transform{Resize: 32, Crop: 28})
	if d2 := digest(Transform{Resize: 32, Crop: 24}); d2 == d1 {
		t.Error("the transform does not change the digest")
	}
	if err := os.Rename(filepath.Join(root, "dog"), filepath.Join(root, "eel")); err != nil {
		t.Fatal(err)
	}
	if d3 := digest(Transform{Resize: 32, Crop: 28}); d3 == d1 {
		t.Error("renaming a class does not change the digest")
	}
}
