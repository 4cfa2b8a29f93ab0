package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// flat returns a w×h opaque image of one colour.
func flat(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// pixels returns image i of d as bytes (v·255, which is exact for 8-bit sources).
func pixels(t testing.TB, d Dataset, i int) []byte {
	t.Helper()
	x := make([]float32, Pixels)
	l, err := d.Image(i, x)
	if err != nil {
		t.Fatal(err)
	}
	if l != -1 {
		t.Fatalf("image %d has label %d, want -1", i, l)
	}
	b := make([]byte, Pixels)
	for k, v := range x {
		b[k] = byte(v*255 + 0.5)
		if float32(b[k])/255 != v {
			t.Fatalf("image %d value %d: %v is not an 8-bit level", i, k, v)
		}
	}
	return b
}

func TestFolderOrderAndSkipping(t *testing.T) {
	dir := t.TempDir()
	// Each file's red value says where it must come in the order.
	order := []string{"10.png", "9.jpg", "A.png", "a.png", "a/b/c.png", "a/z.png", "b.png", "b/0.png"}
	for k, name := range order {
		m := flat(Side, Side, color.NRGBA{uint8(k * 30), 0, 0, 255})
		data := encodePNG(t, m) // by content: 9.jpg is a PNG
		write(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
	write(t, filepath.Join(dir, ".DS_Store"), []byte("junk"))
	write(t, filepath.Join(dir, ".hidden", "x.png"), []byte("junk"))
	write(t, filepath.Join(dir, "a", "notes.txt"), []byte("not an image"))

	_, err := OpenFolder(dir, FolderOptions{})
	want := filepath.Join(dir, "a", "notes.txt") + ": not a PNG or JPEG image"
	if err == nil || err.Error() != want {
		t.Fatalf("non-image file: error %v, want %q", err, want)
	}
	var reported []string
	f, err := OpenFolder(dir, FolderOptions{SkipBad: true, OnSkip: func(p string, err error) {
		reported = append(reported, p)
		if !errors.Is(err, errNotImage) {
			t.Errorf("skip reason %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "a", "notes.txt")
	if len(reported) != 1 || reported[0] != notes || len(f.Skipped()) != 1 || f.Skipped()[0].Path != notes {
		t.Errorf("skipped %v / %v, want %s", reported, f.Skipped(), notes)
	}
	if f.Len() != len(order) || f.Name() != dir || f.Classes() != nil {
		t.Fatalf("Len %d Name %q", f.Len(), f.Name())
	}
	for k, name := range order {
		if f.Path(k) != filepath.Join(dir, filepath.FromSlash(name)) {
			t.Errorf("file %d is %s, want %s", k, f.Path(k), name)
		}
		if p := pixels(t, f, k); p[0] != byte(k*30) || p[1024] != 0 {
			t.Errorf("image %d: red %d, want %d", k, p[0], k*30)
		}
	}
}

func TestFolderConversions(t *testing.T) {
	dir := t.TempDir()
	gray := image.NewGray(image.Rect(0, 0, Side, Side))
	gray16 := image.NewGray16(image.Rect(0, 0, Side, Side))
	pal := color.Palette{color.RGBA{1, 2, 3, 255}, color.NRGBA{200, 100, 50, 0}, color.NRGBA{7, 8, 9, 128}}
	paletted := image.NewPaletted(image.Rect(0, 0, Side, Side), pal)
	rgba := image.NewNRGBA(image.Rect(0, 0, Side, Side))
	rgba64 := image.NewNRGBA64(image.Rect(0, 0, Side, Side))
	for y := range Side {
		for x := range Side {
			k := y*Side + x
			gray.Pix[k] = byte(k * 13)
			gray16.SetGray16(x, y, color.Gray16{uint16(k * 977)})
			paletted.Pix[k] = byte(k % 3)
			rgba.SetNRGBA(x, y, color.NRGBA{byte(x * 8), byte(y * 8), byte(k), byte(k * 5)})
			rgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(k * 61), uint16(k * 17), 0xffff, uint16(k)})
		}
	}
	write(t, filepath.Join(dir, "1gray.png"), encodePNG(t, gray))
	write(t, filepath.Join(dir, "2gray16.png"), encodePNG(t, gray16))
	write(t, filepath.Join(dir, "3paletted.png"), encodePNG(t, paletted))
	write(t, filepath.Join(dir, "4rgba.png"), encodePNG(t, rgba))
	write(t, filepath.Join(dir, "5rgba64.png"), encodePNG(t, rgba64))
	write(t, filepath.Join(dir, "6gray.jpg"), encodeJPEG(t, gray, 100))
	f, err := OpenFolder(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := func(k int, r, g, b byte) []byte { return []byte{r, g, b} }
	checks := []func(k, x, y int) []byte{
		func(k, x, y int) []byte { return want(k, byte(k*13), byte(k*13), byte(k*13)) },
		func(k, x, y int) []byte { v := byte(uint16(k*977) >> 8); return want(k, v, v, v) },
		func(k, x, y int) []byte {
			return [][]byte{{1, 2, 3}, {200, 100, 50}, {7, 8, 9}}[k%3] // alpha dropped, not composited
		},
		func(k, x, y int) []byte { return want(k, byte(x*8), byte(y*8), byte(k)) },
		func(k, x, y int) []byte { return want(k, byte(uint16(k*61)>>8), byte(uint16(k*17)>>8), 255) },
	}
	for i, check := range checks {
		p := pixels(t, f, i)
		for k := range Side * Side {
			w := check(k, k%Side, k/Side)
			if p[k] != w[0] || p[1024+k] != w[1] || p[2048+k] != w[2] {
				t.Fatalf("%s pixel %d: %d,%d,%d, want %v", f.Path(i), k, p[k], p[1024+k], p[2048+k], w)
			}
		}
	}
	// A grayscale JPEG decodes to equal R, G and B.
	p := pixels(t, f, 5)
	for k := range Side * Side {
		if p[k] != p[1024+k] || p[k] != p[2048+k] {
			t.Fatalf("gray JPEG pixel %d: %d,%d,%d", k, p[k], p[1024+k], p[2048+k])
		}
	}
}

// TestCMYK checks the conversion against PIL's, on a grid of values and on a CMYK JPEG (written by
// PIL with Adobe's inverted convention) of flat blocks, which decodes without IDCT rounding.
func TestCMYK(t *testing.T) {
	b, err := os.ReadFile("testdata/cmyk_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		CMYK     [][4]byte `json:"cmyk"`
		RGB      [][3]byte `json:"rgb"`
		JPEGCMYK []byte    `json:"jpeg_cmyk"`
		JPEGRGB  []byte    `json:"jpeg_rgb"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	m := image.NewCMYK(image.Rect(0, 0, len(ref.CMYK), 1))
	for k, c := range ref.CMYK {
		copy(m.Pix[4*k:], c[:])
	}
	r := toRaster(m)
	n := len(ref.CMYK)
	for k, want := range ref.RGB {
		if got := [3]byte{r.pix[k], r.pix[n+k], r.pix[2*n+k]}; got != want {
			t.Errorf("CMYK %v: RGB %v, PIL %v", ref.CMYK[k], got, want)
		}
	}
	data, err := os.ReadFile("testdata/cmyk.jpg")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := dec.(*image.CMYK); !ok || !bytes.Equal(c.Pix, ref.JPEGCMYK) {
		t.Fatalf("image/jpeg decodes cmyk.jpg to %T, not PIL's CMYK values", dec)
	}
	r, err = decode("cmyk.jpg", data)
	if err != nil {
		t.Fatal(err)
	}
	for k := range Side * Side {
		if got, want := [3]byte{r.pix[k], r.pix[1024+k], r.pix[2048+k]}, ref.JPEGRGB[3*k:3*k+3]; !bytes.Equal(got[:], want) {
			t.Fatalf("cmyk.jpg pixel %d: %v, PIL %v", k, got, want)
		}
	}
}

// TestJPEGLikePIL compares the decoding of PIL-written 4:2:0 and 4:2:2 JPEGs with PIL's own. The
// chroma upsampling and colour conversion are libjpeg's; what remains is the IDCT's rounding.
func TestJPEGLikePIL(t *testing.T) {
	b, err := os.ReadFile("testdata/jpeg_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string][]byte
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ycc420.jpg", "ycc422.jpg"} {
		r, err := decodeFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		worst, sum := 0, 0
		for k := range Side * Side {
			for c := range 3 {
				d := int(r.pix[c*1024+k]) - int(ref[name][3*k+c])
				worst = max(worst, d, -d)
				sum += max(d, -d)
			}
		}
		mean := float64(sum) / Pixels
		t.Logf("%s: max difference %d, mean %.3f", name, worst, mean)
		if worst > 3 || mean > 0.1 {
			t.Errorf("%s: differs from PIL by up to %d (mean %.3f)", name, worst, mean)
		}
	}
}

func TestFolderSizes(t *testing.T) {
	dir := t.TempDir()
	big := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for k := range big.Pix {
		big.Pix[k] = byte(k * 31)
		if k%4 == 3 {
			big.Pix[k] = 255
		}
	}
	write(t, filepath.Join(dir, "a.png"), encodePNG(t, flat(Side, Side, color.NRGBA{9, 9, 9, 255})))
	write(t, filepath.Join(dir, "big.png"), encodePNG(t, big))
	_, err := OpenFolder(dir, FolderOptions{})
	if want := filepath.Join(dir, "big.png") + ": image is 64x48, want 32x32 (choose a resize filter to resize it)"; err == nil || err.Error() != want {
		t.Fatalf("wrong size: %v, want %q", err, want)
	}
	// SkipBad does not skip images of the wrong size.
	if _, err := OpenFolder(dir, FolderOptions{SkipBad: true}); err == nil {
		t.Fatal("wrong size skipped")
	}
	m := ResizeMode{Filter: Bilinear, Antialias: true}
	f, err := OpenFolder(dir, FolderOptions{Resize: m})
	if err != nil {
		t.Fatal(err)
	}
	want := toRaster(big).resize(Side, Side, m).pix
	if got := pixels(t, f, 1); !bytes.Equal(got, want) {
		t.Error("resized image differs from the resampler's output")
	}
	if p := pixels(t, f, 0); p[0] != 9 {
		t.Errorf("32x32 image changed by resizing: %d", p[0])
	}
	// Preload gives the same values.
	if err := f.Preload(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if got := pixels(t, f, 1); !bytes.Equal(got, want) {
		t.Error("preloaded image differs")
	}
	if _, err := OpenFolder(dir, FolderOptions{Resize: ResizeMode{Filter: 9}}); err == nil {
		t.Error("filter 9 accepted")
	}
}

func TestFolderErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(filepath.Join(empty, "sub"), 0o755)
	write(t, filepath.Join(empty, ".keep"), nil)
	if _, err := OpenFolder(empty, FolderOptions{}); err == nil || err.Error() != "folder "+empty+": no PNG or JPEG images" {
		t.Errorf("empty folder: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	write(t, filepath.Join(junk, "x.jpg"), []byte("text, not JPEG"))
	if _, err := OpenFolder(junk, FolderOptions{SkipBad: true}); err == nil ||
		err.Error() != "folder "+junk+": no PNG or JPEG images (1 other files skipped)" {
		t.Errorf("all skipped: %v", err)
	}
	if _, err := OpenFolder(filepath.Join(dir, "absent"), FolderOptions{}); err == nil ||
		err.Error() != "folder "+filepath.Join(dir, "absent")+": no such folder" {
		t.Errorf("absent folder: %v", err)
	}

	// A truncated JPEG has a good header, so it fails when decoded, naming the file.
	bad := filepath.Join(dir, "bad")
	noisy := flat(Side, Side, color.NRGBA{1, 2, 3, 255})
	for k := range noisy.Pix {
		noisy.Pix[k] |= byte(k * k * 7)
	}
	good := encodeJPEG(t, noisy, 90)
	cut := (bytes.Index(good, []byte{0xff, 0xda}) + len(good)) / 2 // inside the scan, after the header
	write(t, filepath.Join(bad, "0.jpg"), good)
	write(t, filepath.Join(bad, "1.jpg"), good[:cut])
	write(t, filepath.Join(bad, "2.png"), encodePNG(t, flat(Side, Side, color.NRGBA{1, 2, 3, 255}))[:60])
	f, err := OpenFolder(bad, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, Pixels)
	if _, err := f.Image(0, x); err != nil {
		t.Fatal(err)
	}
	_, err = f.Image(1, x)
	if want := filepath.Join(bad, "1.jpg") + ": corrupt JPEG: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("truncated JPEG: %v, want prefix %q", err, want)
	}
	_, err = f.Image(2, x)
	if want := filepath.Join(bad, "2.png") + ": corrupt PNG: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("truncated PNG: %v, want prefix %q", err, want)
	}
	if err := f.Preload(context.Background(), 2); err == nil || !strings.Contains(err.Error(), "1.jpg") {
		t.Errorf("Preload: %v, want the first bad file, 1.jpg", err)
	}
	// A corrupt header is caught at open.
	hdr := filepath.Join(dir, "hdr")
	write(t, filepath.Join(hdr, "h.jpg"), good[:8])
	_, err = OpenFolder(hdr, FolderOptions{})
	if want := filepath.Join(hdr, "h.jpg") + ": corrupt JPEG: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("corrupt header: %v", err)
	}
	if _, err := f.Image(3, x); err == nil {
		t.Error("index 3 of 3 accepted")
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"test_10.JPEG", "test_2.JPEG", "test_1.JPEG", "a", "test_02.JPEG", "b1", "a10b", "a9c", "test_100.JPEG"}
	want := []string{"a", "a9c", "a10b", "b1", "test_1.JPEG", "test_02.JPEG", "test_2.JPEG", "test_10.JPEG", "test_100.JPEG"}
	s := append([]string(nil), in...)
	sortNatural(s)
	if strings.Join(s, " ") != strings.Join(want, " ") {
		t.Errorf("natural order %v, want %v", s, want)
	}
}
