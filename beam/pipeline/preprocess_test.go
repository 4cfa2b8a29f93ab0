package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"github.com/odin-ood/odin/internal/testfit"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// tinyONNX is a small network exported from PyTorch taking 3×16×16 inputs (onnx/testdata).
var tinyONNX = filepath.Join("..", "..", "onnx", "testdata", "tiny-op13.onnx")

// writeSized writes random PNGs of sizes other than 16×16 into dir and returns their paths.
func writeSized(t *testing.T, dir string, n int) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(11, uint64(n)))
	var paths []string
	for i := range n {
		m := image.NewNRGBA(image.Rect(0, 0, 17+i%5, 20+i%3))
		for p := range m.Pix {
			m.Pix[p] = uint8(r.IntN(256))
			if p%4 == 3 {
				m.Pix[p] = 255
			}
		}
		var b bytes.Buffer
		png.Encode(&b, m)
		p := filepath.Join(dir, fmt.Sprintf("%03d.png", i))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// With a preprocessing, an ONNX network and statistics fitted with that preprocessing, the
// workers load the network as odin score does: the merged shards equal odin score's file, whose
// metadata records the preprocessing.
func TestPrismPreprocessMatchesOdinScore(t *testing.T) {
	dir := t.TempDir()
	paths := writeSized(t, dir, 12)
	list := filepath.Join(dir, "images.txt")
	writeList(t, list, paths)

	pre := &models.Preprocess{Resize: 18, Crop: 16, Interpolation: "bicubic"}
	net, err := experiment.LoadNetworkWith(tinyONNX, experiment.LoadOptions{Preprocess: pre})
	if err != nil {
		t.Fatal(err)
	}
	stats := testfit.Stats(t, net, dir, 4)

	cfg := collection.Config{NN: tinyONNX, Methods: "msp,odin,react", StatsPath: stats, Temperature: 1000, Magnitude: 0.0014,
		Preprocess: pre, Workers: 2, Batch: 4}
	p, s := beam.NewPipelineWithRoot()
	res := filepath.Join(dir, "beam")
	if _, err := Build(s, Options{Config: cfg, Lists: []string{list}, Output: res, Shards: 2, Flush: 5}); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	scorer, meta, err := cfg.Load()
	if err != nil {
		t.Fatal(err)
	}
	if meta.Params["preprocess"] == "" || meta.Params["stats"] == "" {
		t.Errorf("metadata %v: want the preprocessing and the statistics recorded", meta.Params)
	}
	whole := filepath.Join(dir, "whole.csv")
	job := &collection.Job{Scorer: scorer, Inputs: paths, Out: whole, Meta: meta}
	if sum, err := job.Run(context.Background()); err != nil || sum.Failed != 0 {
		t.Fatalf("odin score: %+v, %v", sum, err)
	}
	merged, err := collection.Merge([]string{filepath.Join(res, "scores-00000-of-00002.csv"), filepath.Join(res, "scores-00001-of-00002.csv")})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	collection.Encode(&got, merged)
	want, _ := os.ReadFile(whole)
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("merged Beam shards differ from odin score's file:\n%s\nwant\n%s", got.Bytes(), want)
	}
}
