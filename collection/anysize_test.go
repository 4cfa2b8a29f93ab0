package collection

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"github.com/odin-ood/odin/internal/testfit"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// tinyONNX is a small convolutional network exported from PyTorch, taking 3×16×16 inputs.
var tinyONNX = filepath.Join("..", "onnx", "testdata", "tiny-op13.onnx")

// writeSizedPNGs writes random PNGs of the given sizes into a temporary folder and returns it.
func writeSizedPNGs(t *testing.T, sizes [][2]int) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	for i, s := range sizes {
		m := image.NewNRGBA(image.Rect(0, 0, s[0], s[1]))
		for p := range m.Pix {
			m.Pix[p] = uint8(r.IntN(256))
			if p%4 == 3 {
				m.Pix[p] = 255
			}
		}
		var b bytes.Buffer
		png.Encode(&b, m)
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".png"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tinyConfig(p *models.Preprocess) Config {
	return Config{NN: tinyONNX, Methods: "msp,odin", Temperature: 1000, Magnitude: 0.0014, Preprocess: p, Workers: 2, Batch: 2}
}

// TestScoreAnySize scores a folder of PNGs of several sizes with a 3×16×16 network and a
// resize-and-crop preprocessing, and checks every row against the engine scoring the same
// preprocessed image on its own; the preprocessing is part of the files' identity.
func TestScoreAnySize(t *testing.T) {
	p := &models.Preprocess{Mean: []float64{0.5, 0.4, 0.3}, Std: []float64{0.2, 0.25, 0.3}, Resize: 20, Crop: 16, Scale: 1.0 / 255}
	s, meta, err := tinyConfig(p).Load()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(s.Model.Mean[1])-0.4) > 1e-6 {
		t.Fatalf("preprocessing's normalisation not applied: mean %v", s.Model.Mean)
	}
	if pp := meta.Params["preprocess"]; !strings.Contains(pp, `"crop":16`) || !strings.Contains(pp, `"interpolation":"bilinear"`) {
		t.Fatalf("metadata params %v", meta.Params)
	}
	inputs, err := List([]string{writeSizedPNGs(t, [][2]int{{30, 24}, {16, 16}, {24, 41}, {64, 20}, {20, 20}})})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "scores.csv")
	if _, err := (&Job{Scorer: s, Inputs: inputs, Out: out, Meta: meta}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	in := s.Model.Graph.Input()
	x := make([]float32, len(inputs)*in.Size())
	for i, path := range inputs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := dataset.DecodeTransformed(path, data, p.Transform(), x[i*in.Size():(i+1)*in.Size()]); err != nil {
			t.Fatal(err)
		}
	}
	b := ood.NewBatch(s.Model, s.Model.Graph.NewExec(len(inputs)))
	if err := b.Load(x, len(inputs)); err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != len(inputs) {
		t.Fatalf("%d rows for %d images", len(f.Rows), len(inputs))
	}
	for d, det := range s.Detectors {
		want := make([]float64, len(inputs))
		if err := det.Score(context.Background(), b, want); err != nil {
			t.Fatal(err)
		}
		for i, r := range f.Rows {
			if r.Err != "" || r.Path != inputs[i] || math.Float64bits(r.Scores[d]) != math.Float64bits(want[i]) {
				t.Errorf("%s, %s: row %+v, the engine scores %v", r.Path, det.Name(), r, want[i])
			}
		}
	}

	// Shards scored with another preprocessing do not merge with these, nor resume this file.
	q := *p
	q.Interpolation = "bicubic"
	s2, meta2, err := tinyConfig(&q).Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Job{Scorer: s2, Inputs: inputs, Out: out, Meta: meta2}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "params") {
		t.Errorf("resuming with another preprocessing: %v", err)
	}
	dir := t.TempDir()
	var shards []string
	for i, c := range []struct {
		s *Scorer
		m Meta
	}{{s, meta}, {s2, meta2}} {
		path := filepath.Join(dir, string(rune('0'+i))+".csv")
		if _, err := (&Job{Scorer: c.s, Inputs: inputs, Shard: Shard{I: i, N: 2}, Out: path, Meta: c.m}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, path)
	}
	if _, err := Merge(shards); err == nil || !strings.Contains(err.Error(), "preprocess") {
		t.Errorf("merging shards of two preprocessings: %v", err)
	}

	// A thin image is refused before its aspect-keeping resize makes it huge.
	thin := filepath.Join(t.TempDir(), "thin.png")
	if err := os.WriteFile(thin, pngHeader(8, 1000000), 0o644); err != nil {
		t.Fatal(err)
	}
	var rows []Row
	if err := s.Score(context.Background(), []string{thin}, func(r []Row) error { rows = append(rows, r...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0].Err, "resizes to 20×2500000") {
		t.Errorf("8×1000000 image: %+v", rows)
	}
}

// pngHeader is a PNG that declares w×h pixels and holds almost no data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// TestScoreAnySizeDefaults: without preprocessing a 3×16×16 network has its images resized and
// cropped to 16 with its own normalisation, and so does a preprocessing that gives only part of
// the recipe; the files record what was done, and a 32×32 resize filter is refused.
func TestScoreAnySizeDefaults(t *testing.T) {
	inputs, err := List([]string{writeSizedPNGs(t, [][2]int{{16, 16}, {32, 40}})})
	if err != nil {
		t.Fatal(err)
	}
	scoreAll := func(s *Scorer) []Row {
		var rows []Row
		if err := s.Score(context.Background(), inputs, func(r []Row) error { rows = append(rows, r...); return nil }); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	s, meta, err := tinyConfig(nil).Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := meta.Params["preprocess"]; ok || meta.Params["transform"] != "resize 16, crop 16, bilinear" {
		t.Errorf("params %v", meta.Params)
	}
	plain := scoreAll(s)
	for _, r := range plain {
		if r.Err != "" || len(r.Scores) != 2 {
			t.Errorf("row %+v", r)
		}
	}
	// The importer's normalisation (ImageNet's) kept, in a preprocessing's units.
	s2, meta2, err := tinyConfig(&models.Preprocess{Resize: 16, Crop: 16}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if s2.Model.Mean != s.Model.Mean || s2.Model.Std != s.Model.Std || !strings.Contains(meta2.Params["preprocess"], `"crop":16`) {
		t.Errorf("partial preprocessing: mean %v std %v, want %v %v; params %v", s2.Model.Mean, s2.Model.Std, s.Model.Mean, s.Model.Std, meta2.Params)
	}
	for i, r := range scoreAll(s2) {
		if math.Float64bits(r.Scores[1]) != math.Float64bits(plain[i].Scores[1]) {
			t.Errorf("%s: %v with resize 16 and crop 16 given, %v by default", r.Path, r.Scores, plain[i].Scores)
		}
	}
	c := tinyConfig(nil)
	c.Resize = dataset.ResizeMode{Filter: dataset.Bilinear}
	if _, _, err := c.Load(); err == nil {
		t.Error("a 32×32 resize filter accepted for a 16×16 network")
	}
}

// An index shard reports its set's image size, so that a shard of large images is read whole.
func TestIndexShardPixels(t *testing.T) {
	root := t.TempDir()
	if err := os.Rename(writeSizedPNGs(t, [][2]int{{30, 24}, {20, 20}}), filepath.Join(root, "cat")); err != nil {
		t.Fatal(err)
	}
	f, err := dataset.OpenImageFolder(root, dataset.Transform{Resize: 20, Crop: 16})
	if err != nil {
		t.Fatal(err)
	}
	if got := NewIndexShard(f, 0, 2, Shard{1, 2}).Pixels(); got != 3*16*16 {
		t.Errorf("shard of a 16×16 folder: %d values per image", got)
	}
	if got := dataset.PixelsOf(NewIndexShard(dataset.Uniform(4, 1), 0, 4, Shard{0, 2})); got != dataset.Pixels {
		t.Errorf("shard of a 32×32 set: %d values per image", got)
	}
}

// Config.Load uses fitted statistics only with the feature tap and preprocessing they were
// fitted with (recorded by experiment.FitStats), refusing others with ood's sentinels.
func TestScoreStatsTapAndPreprocess(t *testing.T) {
	dir := writeSizedPNGs(t, [][2]int{{20, 18}, {16, 16}, {30, 22}, {17, 25}})
	p := &models.Preprocess{Resize: 18, Crop: 16}
	net, err := experiment.LoadNetworkWith(tinyONNX, experiment.LoadOptions{Preprocess: p})
	if err != nil {
		t.Fatal(err)
	}
	path := testfit.Stats(t, net, dir, 2)
	for _, c := range []struct {
		name string
		edit func(*Config)
		kind error
	}{
		{"same", func(*Config) {}, nil},
		{"network's own preprocessing", func(c *Config) { c.Preprocess = nil }, ood.ErrOtherPreprocess},
		{"other crop", func(c *Config) { c.Preprocess = &models.Preprocess{Resize: 20, Crop: 16} }, ood.ErrOtherPreprocess},
		{"other tap", func(c *Config) { c.Features = "/Reshape_output_0" }, ood.ErrOtherFeatures},
	} {
		cfg := tinyConfig(p)
		cfg.Methods, cfg.StatsPath = "msp,react", path
		c.edit(&cfg)
		_, meta, err := cfg.Load()
		if (c.kind == nil && err != nil) || (c.kind != nil && !errors.Is(err, c.kind)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
		if c.kind == nil && meta.Params["stats"] == "" {
			t.Errorf("%s: metadata %v record no statistics", c.name, meta.Params)
		}
	}
}
