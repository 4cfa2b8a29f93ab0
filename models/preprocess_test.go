package models

import (
	"math"
	"strings"
	"testing"

	"github.com/odin-ood/odin/nn"
)

func TestParsePreprocess(t *testing.T) {
	p, err := ParsePreprocess([]byte(`{"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.5, 1], "resize": 36, "crop": 32, "interpolation": "bicubic"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scale != 1.0/255 || p.Resize != 36 || p.Crop != 32 || p.Interpolation != "bicubic" {
		t.Errorf("parsed %+v", p)
	}
	for _, bad := range []struct{ json, msg string }{
		{`{"mean": [0.5, 0.5], "std": [1, 1, 1]}`, "3 values"},
		{`{"std": [1, 0, 1]}`, "channel 1"},
		{`{"interpolation": "lanczos"}`, "interpolation"},
		{`{"crop": -1}`, "crop"},
		{`{"scale": 0}`, "scale"},
		{`{"mean": [0, 0, 0], "stdev": [1, 1, 1]}`, "unknown field"},
		{`{"resize": 100000}`, "resize"},
	} {
		if _, err := ParsePreprocess([]byte(bad.json)); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", bad.json, err, bad.msg)
		}
	}
}

// TestPreprocessApply checks that a pixel scale folds into the model's mean and std: a network
// fed 0…255 (scale 1, mean 128, std 64) sees the same normalised values from v/255.
func TestPreprocessApply(t *testing.T) {
	b := nn.NewBuilder(nn.Shape{C: 3, H: 4, W: 4})
	g, err := b.Build(b.GlobalAvgPool(b.Input()))
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Graph: g}
	p := Preprocess{Mean: []float64{128, 128, 128}, Std: []float64{64, 64, 64}, Scale: 1, Crop: 4}
	if err := p.Apply(m); err != nil {
		t.Fatal(err)
	}
	src := make([]float32, 48)
	for i := range src {
		src[i] = float32(i*5) / 255
	}
	dst := make([]float32, 48)
	m.Normalize(dst, src, 1)
	for i, v := range dst {
		want := (float64(i*5) - 128) / 64
		if math.Abs(float64(v)-want) > 1e-5 {
			t.Fatalf("value %d: %v, want %v", i, v, want)
		}
	}
	p.Crop = 8
	if err := p.Apply(m); err == nil {
		t.Error("a crop of 8 accepted for a 4×4 network")
	}
}
