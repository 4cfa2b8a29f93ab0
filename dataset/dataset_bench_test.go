package dataset

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

func BenchmarkCIFARImage(b *testing.B) {
	c, err := OpenCIFAR10(datadir.ForTest(b, "cifar-10-batches-bin/test_batch.bin"))
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, Pixels)
	for i := 0; b.Loop(); i++ {
		c.Image(i%c.Len(), x)
	}
}

func tinyFile(b *testing.B, i int) string {
	return filepath.Join(datadir.ForTest(b, "tiny-imagenet-200/test/images"), fmt.Sprintf("test_%d.JPEG", i))
}

// BenchmarkDecodeTIN decodes one 64×64 Tiny-ImageNet JPEG to RGB planes.
func BenchmarkDecodeTIN(b *testing.B) {
	data, err := os.ReadFile(tinyFile(b, 0))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := decode("x", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResize64(b *testing.B) {
	r, err := decodeFile(tinyFile(b, 0))
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []ResizeMode{{Nearest, false}, {Bilinear, false}, {Bilinear, true}, {Lanczos, true}} {
		b.Run(m.String(), func(b *testing.B) {
			for b.Loop() {
				r.resize(Side, Side, m)
			}
		})
	}
}

func BenchmarkEncode32(b *testing.B) {
	r, err := decodeFile(tinyFile(b, 0))
	if err != nil {
		b.Fatal(err)
	}
	r = r.resize(Side, Side, ResizeMode{Filter: Nearest})
	enc := &png.Encoder{BufferPool: &pngBuffers{}}
	for _, q := range []int{75, 0} {
		b.Run(fmt.Sprintf("q%d", q), func(b *testing.B) {
			for b.Loop() {
				encode(r, q, enc)
			}
		})
	}
}

// BenchmarkOpenFolderTIN lists and reads the headers of the 10,000 Tiny-ImageNet test images.
func BenchmarkOpenFolderTIN(b *testing.B) {
	dir := filepath.Dir(tinyFile(b, 0))
	for b.Loop() {
		f, err := OpenFolder(dir, FolderOptions{Resize: ResizeMode{Filter: Nearest}})
		if err != nil || f.Len() != 10000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild200 builds the seed construction of Imagenet_resize from 200 images, per image.
func BenchmarkBuild200(b *testing.B) {
	src := filepath.Dir(tinyFile(b, 0))
	tmp := b.TempDir()
	sub := filepath.Join(tmp, "src")
	os.MkdirAll(sub, 0o755)
	for i := range 200 {
		name := fmt.Sprintf("test_%d.JPEG", i)
		os.Symlink(filepath.Join(src, name), filepath.Join(sub, name))
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers%d", w), func(b *testing.B) {
			for b.Loop() {
				out := filepath.Join(tmp, "out")
				if _, err := Build(context.Background(), BuildOptions{Name: "Imagenet_resize", Source: sub, Out: out, Workers: w}); err != nil {
					b.Fatal(err)
				}
				os.RemoveAll(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200/1e3, "µs/image")
		})
	}
}
