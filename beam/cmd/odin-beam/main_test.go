package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/odin-ood/odin/internal/testfit"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/odin-ood/odin/experiment"
)

func parse(t *testing.T, args ...string) *cmdFlags {
	t.Helper()
	fs := flag.NewFlagSet("odin-beam", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f cmdFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return &f
}

// The preprocessing and ONNX flags reach collection.Config, from which every worker loads the
// network; --resize stays the 32×32 filter, as in odin score.
func TestPreprocessFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pre.json")
	if err := os.WriteFile(file, []byte(`{"resize": 256, "crop": 224}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f := parse(t, "--nn", "m.onnx", "--preprocess", file, "--mean", "0.5,0.5,0.5", "--interpolation", "bicubic", "--scale", "1",
		"--features", "/pool", "--input-shape", "3,224,224")
	opt, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	c := opt.Config
	if p := c.Preprocess; p == nil || p.Resize != 256 || p.Crop != 224 || !slices.Equal(p.Mean, []float64{0.5, 0.5, 0.5}) ||
		p.Std == nil || p.Interpolation != "bicubic" || p.Scale != 1 {
		t.Errorf("preprocessing %+v", c.Preprocess)
	}
	if c.Features != "/pool" || !slices.Equal(c.InputShape, []int{3, 224, 224}) || c.Resize.Filter != 0 {
		t.Errorf("features %q, input shape %v, resize %v", c.Features, c.InputShape, c.Resize)
	}

	f = parse(t, "--crop", "32", "--std", "0.2,0.2,0.2")
	if opt, err = f.options(); err != nil || opt.Config.Preprocess.Crop != 32 || opt.Config.Preprocess.Mean != nil || opt.Config.Preprocess.Resize != 0 {
		t.Errorf("--crop --std alone: %+v, %v", opt.Config.Preprocess, err)
	}
	f = parse(t, "--resize", "bilinear")
	if opt, err = f.options(); err != nil || opt.Config.Preprocess != nil || opt.Config.Resize.Filter == 0 || opt.Config.Features != "" || opt.Config.InputShape != nil {
		t.Errorf("--resize bilinear: %+v, %v", opt.Config, err)
	}
}

// Bad values are refused before anything runs, with odin score's one-line errors.
func TestPreprocessFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mean", "0.5,0.5"}, `--mean "0.5,0.5": want three comma-separated values R,G,B`},
		{[]string{"--std", "1,x,1"}, `--std "1,x,1": "x" is not a number`},
		{[]string{"--scale", "0"}, "--scale 0: must be positive"},
		{[]string{"--preprocess", filepath.Join(t.TempDir(), "none.json")}, "--preprocess: open "},
		{[]string{"--input-shape", "3,224"}, `--input-shape "3,224": want C,H,W`},
		{[]string{"--interpolation", "cubic"}, "cubic"},
	} {
		_, err := parse(t, c.args...).options()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", c.args, err, c.want)
		}
	}
}

// Statistics fitted with another preprocessing are refused here, before the pipeline runs, with
// one line and the way out.
func TestStatsOfOtherPreprocessing(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		m := image.NewGray(image.Rect(0, 0, 16+i, 18))
		var b bytes.Buffer
		png.Encode(&b, m)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.png", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tiny := filepath.Join("..", "..", "..", "onnx", "testdata", "tiny-op13.onnx")
	net, err := experiment.LoadNetworkWith(tiny, experiment.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stats := testfit.Stats(t, net, dir, 2)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--crop", "16", "--interpolation", "bicubic"}, "statistics fitted with another preprocessing: stats " + stats + " were fitted with the network's own preprocessing, used with preprocessing {"},
		{[]string{"--features", "/GlobalAveragePool_output_0"}, "statistics fitted on other features: stats " + stats + " were fitted on the default features"},
	} {
		f := parse(t, append([]string{"--nn", tiny, "--method", "msp,react", "--stats", stats}, c.args...)...)
		opt, err := f.options()
		if err != nil {
			t.Fatal(err)
		}
		err = f.check(opt)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("the fitted preprocessing refused: %v", err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "odin fit") || strings.Contains(err.Error(), "\n")):
			t.Errorf("%v: %v, want one line with %q and odin fit", c.args, err, c.want)
		}
	}
}
