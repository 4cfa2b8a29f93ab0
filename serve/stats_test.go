package serve

import (
	"errors"
	"fmt"
	"github.com/odin-ood/odin/internal/testfit"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
	stats := testfit.Stats(t, net, dir, 2)
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

// An ONNX model's feature tap and input shape come from its configuration: statistics fitted on
// a tap other than the default are served with that tap and refused without it, a given input
// shape reaches the importer, and both are refused for a checkpoint or when malformed.
func TestONNXFeaturesAndInputShape(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.png", i)), randomPNG(16, 16, uint64(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const tap = "/Reshape_output_0"
	net, err := experiment.LoadNetworkWith(tinyONNX, experiment.LoadOptions{Features: tap})
	if err != nil {
		t.Fatal(err)
	}
	stats := testfit.Stats(t, net, dir, 2)
	config := func(edit func(*ModelConfig)) ModelConfig {
		c := ModelConfig{Name: "tiny", ONNX: tinyONNX, MaxBatch: 4, Workers: 1, Threshold: writeThreshold(t, tinyONNX, 0.2001),
			Methods: "odin,react", Stats: stats}
		edit(&c)
		return c
	}
	pc, err := ParseConfig([]byte(`{"name": "tiny", "onnx": "t.onnx", "threshold": "t.json", "features": "/Reshape_output_0", "input_shape": [3, 16, 16]}`), "tiny.json", dir)
	if err != nil || pc.Features != tap || !slices.Equal(pc.InputShape, []int{3, 16, 16}) {
		t.Fatalf("ParseConfig: %+v, %v", pc, err)
	}
	m, err := LoadModel(config(func(c *ModelConfig) { c.Features = tap }), onnxLoad)
	if err != nil || len(m.Detectors) != 2 || m.Detectors[1].Name() != "react" {
		t.Fatalf("tapped statistics with their tap: %v", err)
	}
	if _, err := LoadModel(config(func(*ModelConfig) {}), onnxLoad); !errors.Is(err, ood.ErrOtherFeatures) {
		t.Errorf("tapped statistics without their tap: %v, want ood.ErrOtherFeatures", err)
	}
	if _, err := LoadModel(config(func(c *ModelConfig) { c.Features, c.InputShape = tap, []int{3, 16, 16} }), onnxLoad); err != nil {
		t.Errorf("the model's own input shape: %v", err)
	}
	for _, bad := range []struct {
		edit func(*ModelConfig)
		want string
	}{
		{func(c *ModelConfig) { c.Features, c.InputShape = tap, []int{3, 20, 20} }, "dimension 2 is 16 in the model, 20 given"},
		{func(c *ModelConfig) { c.InputShape = []int{3, -1, 16} }, "input_shape [3 -1 16]: want [C, H, W], each positive"},
		{func(c *ModelConfig) { c.InputShape = []int{16, 16} }, "want [C, H, W]"},
		{func(c *ModelConfig) {
			c.ONNX, c.Checkpoint, c.Features = "", "../models/testdata/densenet-22-4.pth", tap
		}, "apply to ONNX models only"},
	} {
		_, err := LoadModel(config(bad.edit), onnxLoad)
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("got %v, want one line with %q", err, bad.want)
		}
	}
}
