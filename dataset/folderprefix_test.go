package dataset

import (
	"errors"
	"path/filepath"
	"testing"
)

// A set named folder:PATH is the ImageFolder of PATH with Options.Transform, as OpenImageFolder
// gives it; Locate finds it without reading it, and a missing folder is ErrMissing.
func TestOpenFolderPrefix(t *testing.T) {
	root := filepath.Join("testdata", "imagefolder")
	tr := Transform{Resize: 32, Crop: 28}
	ds, err := Open(FolderPrefix+root, Options{Transform: tr})
	if err != nil {
		t.Fatal(err)
	}
	want, err := OpenImageFolder(root, tr)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := ds.(*ImageFolder)
	if !ok || f.Len() != want.Len() || PixelsOf(ds) != 3*28*28 {
		t.Fatalf("Open(folder:…) = %T of %d images, %d values each; want an ImageFolder of %d, %d", ds, ds.Len(), PixelsOf(ds), want.Len(), 3*28*28)
	}
	for i := range f.Len() {
		a, b := make([]float32, f.Pixels()), make([]float32, f.Pixels())
		la, _ := f.Image(i, a)
		lb, _ := want.Image(i, b)
		if la != lb || f.Path(i) != want.Path(i) || a[len(a)/2] != b[len(b)/2] {
			t.Errorf("image %d: %s label %d, OpenImageFolder %s label %d", i, f.Path(i), la, want.Path(i), lb)
		}
	}
	if loc, err := Locate(FolderPrefix+root, Options{}); err != nil || loc.Path != root || loc.From != "path" {
		t.Errorf("Locate = %+v, %v", loc, err)
	}
	if _, err := Locate(FolderPrefix+filepath.Join(root, "nope"), Options{}); !errors.Is(err, ErrMissing) {
		t.Errorf("a missing folder: %v, want ErrMissing", err)
	}
	if _, err := Open(FolderPrefix+root, Options{}); err == nil {
		t.Error("folder: without a crop accepted")
	}

	// A folder without sub-folders: its images, unlabelled, in sorted order.
	flat := filepath.Join(root, "cat", "sub")
	ds, err = Open(FolderPrefix+flat, Options{Transform: tr})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := walkImages(flat)
	if ds.Len() != len(files) || ds.Len() == 0 {
		t.Fatalf("flat folder: %d images, want %d", ds.Len(), len(files))
	}
	dst := make([]float32, PixelsOf(ds))
	for i := range ds.Len() {
		if l, err := ds.Image(i, dst); err != nil || l != -1 || ds.(*ImageFolder).Path(i) != files[i] {
			t.Errorf("flat image %d: label %d, %v, path %s; want -1 and %s", i, l, err, ds.(*ImageFolder).Path(i), files[i])
		}
	}
}
