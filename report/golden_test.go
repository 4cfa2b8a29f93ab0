package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata")

// goldenFigures are small, fixed figures, one of every kind.
func goldenFigures(t *testing.T) []Figure {
	in := Input{InName: "CIFAR-10", OutName: "Tiny-ImageNet (crop)", Methods: synthetic(3, 400, "baseline", "odin", "vim"),
		Bootstrap: metrics.BootstrapOptions{Resamples: 100, Seed: 1}, Grids: []Grid{testGrid()}}
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// One figure of each kind keeps the golden files small.
	keep := map[string]bool{"headline": true, "compare": true, "roc": true, "pr-out": true, "hist-odin": true, "heatmap": true}
	var figs []Figure
	for _, f := range r.Figures {
		if keep[f.Name] {
			figs = append(figs, f)
		}
	}
	if len(figs) != len(keep) {
		t.Fatalf("%d of the %d golden figures drawn", len(figs), len(keep))
	}
	return figs
}

// TestGoldenFigures compares every figure with the images committed under testdata/golden, so
// that a change of a figure is seen: PNG pixel by pixel, SVG byte by byte. Rendering is
// deterministic (gonum embeds its fonts), but rasterisation involves floating point that fused
// multiply–add on other architectures can change in the last bit, so off amd64 a few pixels
// may differ and the SVG is not compared. Run go test ./report -run Golden -update after an
// intended change and look at the new images.
func TestGoldenFigures(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range goldenFigures(t) {
		for _, ext := range []string{"png", "svg"} {
			var got []byte
			var err error
			if ext == "png" {
				got, err = f.PNG()
			} else {
				got, err = f.SVG()
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, f.Name+"."+ext)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (make it with go test ./report -run Golden -update)", err)
			}
			if ext == "svg" {
				if runtime.GOARCH == "amd64" && !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden SVG", path)
					writeFailed(t, path, got)
				}
				continue
			}
			if n, total := differingPixels(t, got, want); n > total/1000 || runtime.GOARCH == "amd64" && n > 0 {
				t.Errorf("%s: %d of %d pixels differ from the golden image", path, n, total)
				writeFailed(t, path, got)
			}
		}
	}
}

// writeFailed keeps the image that failed beside the golden one, for a look.
func writeFailed(t *testing.T, path string, b []byte) {
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, b, 0o644); err == nil {
		t.Logf("the new image is in %s", out)
	}
}

func differingPixels(t *testing.T, a, b []byte) (n, total int) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("size %v, golden %v", ia.Bounds(), ib.Bounds())
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !samePixel(ia, ib, x, y) {
				n++
			}
		}
	}
	return n, r.Dx() * r.Dy()
}

func samePixel(a, b image.Image, x, y int) bool {
	r1, g1, b1, a1 := a.At(x, y).RGBA()
	r2, g2, b2, a2 := b.At(x, y).RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// TestGoldenSeesChange checks that the comparison notices a change: the headline figure of other
// scores differs from the golden one.
func TestGoldenSeesChange(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "headline.png"))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{InName: "CIFAR-10", OutName: "Tiny-ImageNet (crop)", Methods: synthetic(4, 400, "baseline", "odin"),
		Bootstrap: metrics.BootstrapOptions{Resamples: 100, Seed: 1}}
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Figures[0].PNG()
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := differingPixels(t, got, want); n == 0 {
		t.Error("a headline figure of other scores equals the golden image")
	}
}
