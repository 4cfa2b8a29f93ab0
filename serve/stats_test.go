package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/ood"
)

// Fitted detectors are served with statistics fitted with the model's preprocessing, and
// statistics fitted with another are refused at load.
func TestStatsOtherPreprocess(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.png", i)), randomPNG(18+i, 21, uint64(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	net, err := experiment.LoadNetworkWith(tinyONNX, experiment.LoadOptions{Preprocess: tinyPreprocess()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	train, err := experiment.OpenSet(ctx, net, dataset.FolderPrefix+dir, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := experiment.FitStats(ctx, net, train, train.Len(), []string{"react"}, experiment.FitOptions{Workers: 1, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	stats := filepath.Join(dir, "tiny.stats")
	if err := st.Save(stats); err != nil {
		t.Fatal(err)
	}
	withStats := func(c *ModelConfig) { c.Methods, c.Stats = "odin,react", stats }
	if m := tinyModel(t, tinyPreprocess(), withStats); len(m.Detectors) != 2 || m.Detectors[1].Name() != "react" {
		t.Errorf("detectors %v", m.Detectors)
	}
	c := ModelConfig{Name: "tiny", ONNX: tinyONNX, MaxBatch: 4, Workers: 1, Threshold: writeThreshold(t, tinyONNX, 0.2001)}
	withStats(&c)
	if _, err := LoadModel(c, onnxLoad); !errors.Is(err, ood.ErrOtherPreprocess) {
		t.Errorf("statistics of another preprocessing: %v, want ood.ErrOtherPreprocess", err)
	}
}
