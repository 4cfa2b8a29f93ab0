package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// FromImage on what image/jpeg decodes equals DecodeImage on the file's bytes (PIL's
// conversion), and differs from image/jpeg's own RGB conversion, which is the point of it.
func TestFromImageMatchesDecode(t *testing.T) {
	for _, name := range []string{"ycc420.jpg", "ycc422.jpg", "cmyk.jpg"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		resize := ResizeMode{Filter: Bilinear, Antialias: true}
		want := make([]float32, Pixels)
		if err := DecodeImage(name, data, resize, want); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, Pixels)
		if err := FromImage(m, resize, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d is %v, DecodeImage gives %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestFromImageRefuses(t *testing.T) {
	dst := make([]float32, Pixels)
	if err := FromImage(image.NewRGBA(image.Rect(0, 0, 64, 64)), ResizeMode{}, dst); !errors.Is(err, ErrImageSize) {
		t.Errorf("64×64 without resize: %v", err)
	}
	if err := FromImage(image.NewRGBA(image.Rect(0, 0, 0, 5)), ResizeMode{Filter: Bilinear}, dst); !errors.Is(err, ErrImageSize) {
		t.Errorf("empty image: %v", err)
	}
	if err := FromImage(image.NewRGBA(image.Rect(0, 0, 32, 32)), ResizeMode{}, dst[:10]); err == nil {
		t.Error("short destination accepted")
	}
}

// A service receives an image.Image (decoded by image/jpeg, image/png or any registered decoder)
// and converts it into the network's input as odin's data sets do.
func ExampleFromImage() {
	m := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			m.Set(x, y, color.NRGBA{R: 255, G: 51, B: 0, A: 128}) // alpha is dropped, as PIL does
		}
	}
	x := make([]float32, Pixels) // R, G, B planes of 32×32
	if err := FromImage(m, ResizeMode{Filter: Bilinear, Antialias: true}, x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x[0], x[Side*Side], x[2*Side*Side])
	// Output: 1 0.2 0
}
