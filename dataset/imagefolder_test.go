package dataset

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type imageFolderRef struct {
	Classes []string `json:"classes"`
	Samples [][2]any `json:"samples"`
	Cases   []struct {
		File         string `json:"file"`
		Resize, Crop int
		Filter       string `json:"filter"`
		Pixels       string `json:"pixels"`
	} `json:"cases"`
}

func readImageFolderRef(t *testing.T) *imageFolderRef {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "imagefolder_ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref imageFolderRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return &ref
}

// TestTransformMatchesTorchvision checks Resize(shorter side) + CenterCrop on PIL images, bilinear
// and bicubic, shrinking and enlarging, against torchvision 0.14 with PIL: every 8-bit sample must
// be equal (gen_imagefolder.py writes the reference).
func TestTransformMatchesTorchvision(t *testing.T) {
	ref := readImageFolderRef(t)
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		want, err := base64.StdEncoding.DecodeString(c.Pixels)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFilter(c.Filter)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join("testdata", "imagefolder", c.File))
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, 3*c.Crop*c.Crop)
		w, h, err := DecodeTransformed(c.File, data, Transform{Resize: c.Resize, Crop: c.Crop, Filter: f}, dst)
		if err != nil {
			t.Fatal(err)
		}
		if w != c.Crop || h != c.Crop || len(want) != len(dst) {
			t.Fatalf("%s: %dx%d, want %d² (%d values)", c.File, w, h, c.Crop, len(want))
		}
		for i, v := range want {
			if got := dst[i] * 255; got != float32(v) {
				t.Fatalf("%s resize %d crop %d %s: sample %d (channel %d) is %v, torchvision %d",
					c.File, c.Resize, c.Crop, c.Filter, i, i/(c.Crop*c.Crop), got, v)
			}
		}
	}
}

// TestImageFolderMatchesTorchvision checks the class list, sample order and labels of
// torchvision's ImageFolder on the same tree.
func TestImageFolderMatchesTorchvision(t *testing.T) {
	ref := readImageFolderRef(t)
	root := filepath.Join("testdata", "imagefolder")
	f, err := OpenImageFolder(root, Transform{Resize: 32, Crop: 28})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes(), ref.Classes) {
		t.Fatalf("classes %v, torchvision %v", f.Classes(), ref.Classes)
	}
	if f.Len() != len(ref.Samples) {
		t.Fatalf("%d images, torchvision %d", f.Len(), len(ref.Samples))
	}
	if f.Pixels() != 3*28*28 || PixelsOf(f) != 3*28*28 {
		t.Errorf("Pixels %d, want %d", f.Pixels(), 3*28*28)
	}
	dst := make([]float32, f.Pixels())
	for i, s := range ref.Samples {
		rel, _ := filepath.Rel(root, f.Path(i))
		if rel != s[0].(string) {
			t.Errorf("image %d is %s, torchvision %s", i, rel, s[0])
		}
		label, err := f.Image(i, dst)
		if err != nil {
			t.Fatal(err)
		}
		if label != int(s[1].(float64)) {
			t.Errorf("image %d label %d, torchvision %v", i, label, s[1])
		}
	}
	if _, err := OpenImageFolder(root, Transform{Resize: 32}); err == nil {
		t.Error("a transform without a crop accepted")
	}
	if _, err := OpenImageFolder(filepath.Join(root, "cat", "sub"), Transform{Crop: 8}); err == nil {
		t.Error("a folder without class folders accepted")
	}
}

func TestCentreCropPads(t *testing.T) {
	r := newRaster(3, 2)
	for i := range r.pix {
		r.pix[i] = byte(i + 1)
	}
	c := centreCrop(r, 4)
	// torchvision pads 3×2 to 4×4 with (left 0, top 1, right 1, bottom 1).
	want := []byte{0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0}
	if !slices.Equal(c.pix[:16], want) {
		t.Errorf("red plane %v, want %v", c.pix[:16], want)
	}
}
