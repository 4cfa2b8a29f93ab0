package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// tinyONNX is a small random ONNX network (onnx/testdata, gen_onnx.py --small): 3×16×16 input,
// 5 classes, a final Gemm on 16 features and a final Softmax that the import removes.
var tinyONNX = filepath.Join("..", "..", "onnx", "testdata", "tiny-op17.onnx")

// writeFolder writes root/c<k>/img<i>.png: classes folders of perClass PNGs of sizes other
// than 16×16.
func writeFolder(t *testing.T, root string, classes, perClass int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	for c := range classes {
		dir := filepath.Join(root, fmt.Sprintf("c%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewNRGBA(image.Rect(0, 0, 19+2*i, 23+c))
			for j := range img.Pix {
				img.Pix[j] = uint8(r.IntN(256))
				if j%4 == 3 {
					img.Pix[j] = 255
				}
			}
			img.Set(0, 0, color.NRGBA{uint8(50 * c), 0, 0, 255})
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("img%d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// An ONNX network at 3×16×16 runs through accuracy, eval (with a fitted detector), tune and
// calibrate on ImageNet-style folders named folder:PATH, with the preprocessing flags; each
// command tells once that the final Softmax was removed.
func TestAnySizeCommands(t *testing.T) {
	root := t.TempDir()
	in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
	writeFolder(t, in, 5, 3, 1)
	writeFolder(t, out, 2, 6, 2)
	cache := t.TempDir()
	prep := []string{"--nn", tinyONNX, "--resize", "18", "--crop", "16", "--interpolation", "bicubic", "--cache", cache}
	once := func(cmd, stderr string) {
		t.Helper()
		if n := strings.Count(stderr, "note: the final Softmax"); n != 1 {
			t.Errorf("%s: the Softmax note appears %d times in %q, want once", cmd, n, stderr)
		}
	}

	// accuracy: what the library counts with the same preprocessing.
	code, stdout, stderr := runCmd(t, append([]string{"accuracy", "--in_dataset", "folder:" + in}, prep[:8]...)...)
	if code != 0 {
		t.Fatalf("accuracy: exit %d: %s", code, stderr)
	}
	once("accuracy", stderr)
	net, err := experiment.LoadNetworkWith(tinyONNX, experiment.LoadOptions{Preprocess: &models.Preprocess{Resize: 18, Crop: 16, Interpolation: "bicubic"}})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open("folder:"+in, dataset.Options{Transform: net.Transform()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := experiment.Accuracy(context.Background(), net, experiment.Range{Data: ds, Count: 15}, 1, 4)
	if want := fmt.Sprintf("accuracy %.2f%% (%d/15)\n", 100*float64(c)/15, c); err != nil || stdout != want {
		t.Errorf("accuracy printed %q, library %q (%v)", stdout, want, err)
	}

	// fit on a feature tap named by --features, then eval with the fitted detector and ODIN.
	stats := filepath.Join(t.TempDir(), "tiny.stats")
	tap := []string{"--features", "/GlobalAveragePool_output_0"}
	code, stdout, stderr = runCmd(t, append(append([]string{"fit", "--train", "folder:" + in, "--method", "mahalanobis", "--stats", stats, "--quiet"}, prep...), tap...)...)
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	once("fit", stderr)
	if !strings.Contains(stdout, "16 features, 5 classes) from 15 images") {
		t.Errorf("fit: %q", stdout)
	}
	code, stdout, stderr = runCmd(t, append(append([]string{"eval", "--in_dataset", "folder:" + in, "--out_dataset", "folder:" + out,
		"--first", "0", "--method", "msp,odin,mahalanobis", "--stats", stats, "--json", "--quiet"}, prep...), tap...)...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	once("eval", stderr)
	var res struct {
		CountIn  int                        `json:"count_in"`
		CountOut int                        `json:"count_out"`
		Methods  map[string]json.RawMessage `json:"methods"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.CountIn != 15 || res.CountOut != 12 || len(res.Methods) != 3 {
		t.Errorf("eval: %+v (%v) from %s", res, err, stdout)
	}

	// tune on a 2×2 grid, then calibrate.
	code, stdout, stderr = runCmd(t, append([]string{"tune", "--in_dataset", "folder:" + in, "--val_dataset", "folder:" + out,
		"--count", "12", "--temperatures", "1,100", "--magnitudes", "0,0.004", "--search", "full", "--json", "--quiet"}, prep...)...)
	if code != 0 {
		t.Fatalf("tune: exit %d: %s", code, stderr)
	}
	once("tune", stderr)
	var tuned struct {
		Temperature float64 `json:"temperature"`
		Command     string  `json:"command"`
	}
	if err := json.Unmarshal([]byte(stdout), &tuned); err != nil || (tuned.Temperature != 1 && tuned.Temperature != 100) {
		t.Errorf("tune: %+v (%v) from %s", tuned, err, stdout)
	}
	th := filepath.Join(t.TempDir(), "th.json")
	code, _, stderr = runCmd(t, append([]string{"calibrate", "--in_dataset", "folder:" + in, "--count", "15", "--tpr", "0.8", "--out", th, "--quiet"}, prep[:8]...)...)
	if code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, stderr)
	}
	once("calibrate", stderr)
	if d, err := decision.Load(th); err != nil || d.Count != 15 || d.Accepted < 0.8 {
		t.Errorf("threshold %+v, %v", d, err)
	}

	code, stdout, stderr = runCmd(t, "bench", "--nn", tinyONNX, "--n", "4", "--rounds", "1", "--workers", "1", "--crop", "16")
	if code != 0 || !strings.Contains(stdout, "odin ") {
		t.Fatalf("bench: exit %d: %s %s", code, stdout, stderr)
	}
	once("bench", stderr)
}

// A set of 32×32 images for a 16×16 network, a bad --preprocess file and a crop that is not the
// network's each give one line.
func TestAnySizeRefusals(t *testing.T) {
	root := t.TempDir()
	writeFolder(t, root, 2, 2, 5)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mean": [0.5, 0.5]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"eval", "--nn", tinyONNX, "--in_dataset", "folder:" + root, "--out_dataset", "Uniform", "--first", "0", "--quiet", "--fresh"},
			1, []string{"gives 3×32×32 images, the network takes 3×16×16", "folder:PATH"}},
		{[]string{"accuracy", "--nn", tinyONNX, "--in_dataset", "folder:" + root, "--preprocess", bad}, 2, []string{"--preprocess " + bad}},
		{[]string{"accuracy", "--nn", tinyONNX, "--in_dataset", "folder:" + root, "--crop", "32"}, 1, []string{"crops 32×32, the network takes 16×16"}},
		{[]string{"accuracy", "--nn", tinyONNX, "--in_dataset", "folder:" + root, "--mean", "0.5,0.5"}, 2, []string{"--mean"}},
		{[]string{"accuracy", "--nn", tinyONNX, "--in_dataset", "folder:" + root, "--features", "nosuch"}, 1, []string{"nosuch"}},
		{[]string{"fit", "--nn", filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth"), "--features", "x"}, 1, []string{"only for an ONNX model"}},
	} {
		code, _, stderr := runCmd(t, c.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		ok := code == c.code
		for _, w := range c.want {
			ok = ok && strings.Contains(last, w)
		}
		if !ok || strings.Count(stderr, "odin:") > 1 {
			t.Errorf("%s: exit %d, stderr %q; want %d and one line with %q", strings.Join(c.args[:1], " "), code, stderr, c.code, c.want)
		}
	}
}
