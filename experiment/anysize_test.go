package experiment

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// tinyONNX is a small random network exported by PyTorch (onnx/testdata/gen_onnx.py --small):
// 3×16×16 input, 5 classes, a final Gemm on 16 features, and a final Softmax that the import
// removes.
var tinyONNX = filepath.Join("..", "onnx", "testdata", "tiny-op17.onnx")

// WriteImageFolder writes an ImageNet-style folder below root: classes class folders "c0",
// "c1", … with perClass PNGs each, of sizes that differ from image to image (none 16×16), tinted
// by class. It returns the files in torchvision's order and their labels.
func writeImageFolder(t testing.TB, root string, classes, perClass int, seed uint64) (files []string, labels []int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	for c := range classes {
		dir := filepath.Join(root, fmt.Sprintf("c%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			w, h := 18+3*i+c, 21+2*c
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			for y := range h {
				for x := range w {
					img.Set(x, y, color.NRGBA{uint8(40*c + r.IntN(80)), uint8(r.IntN(256)), uint8(255 - 40*c - r.IntN(60)), 255})
				}
			}
			p := filepath.Join(dir, fmt.Sprintf("img%02d.png", i))
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
			files, labels = append(files, p), append(labels, c)
		}
	}
	return files, labels
}

// tinyNet loads the tiny ONNX network with the given preprocessing.
func tinyNet(t testing.TB, p *models.Preprocess) *Network {
	t.Helper()
	net, err := LoadNetworkWith(tinyONNX, LoadOptions{Preprocess: p})
	if err != nil {
		t.Fatal(err)
	}
	if in := net.Model.Graph.Input(); in.C != 3 || in.H != 16 || in.W != 16 {
		t.Fatalf("tiny network takes %v, want 3×16×16", in)
	}
	return net
}

// byHand decodes, transforms and normalises one file as the network's folder transform says.
func byHand(t testing.TB, net *Network, file string) []float32 {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, net.Model.Graph.Input().Size())
	if w, h, err := dataset.DecodeTransformed(file, data, net.Transform(), x); err != nil || w != 16 || h != 16 {
		t.Fatalf("%s: %d×%d, %v", file, w, h, err)
	}
	return x
}

// At 3×16×16 from an image folder of other sizes, Accuracy counts the images whose top class is
// their class folder's index, and Eval's baseline and ODIN scores are those of each image scored
// on its own; the Softmax removal is reported.
func TestAnySizeAccuracyAndEval(t *testing.T) {
	root := t.TempDir()
	files, labels := writeImageFolder(t, filepath.Join(root, "in"), 5, 3, 1)
	writeImageFolder(t, filepath.Join(root, "out"), 2, 4, 2)
	net := tinyNet(t, &models.Preprocess{Resize: 20, Crop: 16, Interpolation: "bicubic"})
	if len(net.Notes) != 1 || !strings.Contains(net.Notes[0], "Softmax") {
		t.Errorf("notes %q, want one about the removed Softmax", net.Notes)
	}
	ctx := context.Background()
	in, err := dataset.OpenContext(ctx, dataset.FolderPrefix+filepath.Join(root, "in"), dataset.Options{Transform: net.Transform()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := dataset.OpenContext(ctx, dataset.FolderPrefix+filepath.Join(root, "out"), dataset.Options{Transform: net.Transform()})
	if err != nil {
		t.Fatal(err)
	}
	m := net.Model
	k := m.Classes()
	want := 0
	odin := &ood.ODIN{Temperature: 10, Magnitude: 0.002}
	wantODIN := make([]float64, len(files))
	for i, f := range files {
		b := ood.NewBatch(m, m.Graph.NewExec(1))
		if err := b.Load(byHand(t, net, f), 1); err != nil {
			t.Fatal(err)
		}
		if ood.Argmax(b.Logits[:k]) == labels[i] {
			want++
		}
		s := make([]float64, 1)
		if err := odin.Score(ctx, b, s); err != nil {
			t.Fatal(err)
		}
		wantODIN[i] = s[0]
	}
	t.Logf("accuracy by hand %d/%d; ODIN scores %v", want, len(files), wantODIN[:3])
	got, err := Accuracy(ctx, net, Range{Data: in, First: 0, Count: in.Len()}, 2, 4)
	if err != nil || got != want {
		t.Errorf("Accuracy = %d, %v; by hand %d of %d", got, err, want, len(files))
	}

	ev, err := NewEval(Setup{Net: net, Methods: "msp,odin", Temperature: 10, Magnitude: 0.002,
		In: Range{in, 0, in.Len()}, Out: Range{out, 0, out.Len()}, InSet: "folder:in", OutSet: "folder:out", Workers: 2, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	o, err := ev.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range wantODIN {
		if g := o.In[1][i]; math.Abs(g-w) > 1e-12 {
			t.Errorf("image %d: ODIN score %v, scored alone %v", i, g, w)
		}
	}
}

// The grid scorer at 3×16×16 gives each cell the scores Scorer gives with the cell's (T, ε), and
// a tiny grid is tuned; fitting and calibrating work on the same folder.
func TestAnySizeTuneFitCalibrate(t *testing.T) {
	root := t.TempDir()
	writeImageFolder(t, filepath.Join(root, "in"), 5, 3, 3)
	writeImageFolder(t, filepath.Join(root, "out"), 3, 4, 4)
	net := tinyNet(t, nil)
	ctx := context.Background()
	open := func(dir string) dataset.Dataset {
		ds, err := dataset.Open(dataset.FolderPrefix+filepath.Join(root, dir), dataset.Options{Transform: net.Transform()})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	in, out := open("in"), open("out")
	g := Grid{Temperatures: []float64{1, 100}, Magnitudes: []float64{0, 0.004}}
	tu, err := NewTuner(net.Model, g, MinFPR95, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	inR, outR := Range{in, 0, in.Len()}, Range{out, 0, out.Len()}
	res, err := tu.Tune(ctx, inR, outR)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best < 0 || res.Best >= g.Len() {
		t.Fatalf("best cell %d of %d", res.Best, g.Len())
	}
	gs, err := tu.Scores(ctx, "in", inR)
	if err != nil {
		t.Fatal(err)
	}
	for c := range g.Len() {
		T, eps := g.Cell(c)
		s, err := NewScorer(net.Model, []ood.Detector{&ood.ODIN{Temperature: T, Magnitude: eps}}, 1, 5).Score(ctx, in, 0, in.Len(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range s[0] {
			if math.Abs(gs.Cells[c][i]-v) > 1e-12 {
				t.Errorf("cell T=%g ε=%g image %d: grid %v, scorer %v", T, eps, i, gs.Cells[c][i], v)
			}
		}
	}

	st, _, err := FitStats(ctx, net, in, in.Len(), []string{"mahalanobis", "react"}, FitOptions{Workers: 2, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.Features != 16 || st.Classes != 5 || st.Images != in.Len() {
		t.Errorf("statistics of %d features, %d classes, %d images; want 16, 5, %d", st.Features, st.Classes, st.Images, in.Len())
	}
	path := filepath.Join(t.TempDir(), "tiny.stats")
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	dets, _, err := Detectors("mahalanobis,react", net, 1000, 0.0014, path)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := NewScorer(net.Model, dets, 2, 4).Score(ctx, out, 0, out.Len(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for d := range scores {
		for i, v := range scores[d] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s score of image %d is %v", dets[d].Name(), i, v)
			}
		}
	}

	th, err := CalibrateODIN(ctx, net, inR, "folder:in", 1000, 0.0014, 0.8, 2, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if th.Accepted < 0.8 || th.Count != in.Len() {
		t.Errorf("threshold accepts %v of %d images, want ≥ 0.8 of %d", th.Accepted, th.Count, in.Len())
	}
	// The threshold records the preprocessing, and refuses images prepared another way.
	cropped := tinyNet(t, &models.Preprocess{Resize: 18, Crop: 16})
	if th.Preprocess != net.PreprocessJSON() || th.CheckPreprocess(cropped.PreprocessJSON()) == nil {
		t.Errorf("threshold records preprocessing %q; CheckPreprocess(%q) = nil", th.Preprocess, cropped.PreprocessJSON())
	}
}

// A set of 32×32 images given to a 16×16 network is refused with one line naming both sizes,
// by every entry point, rather than read at the wrong size.
func TestAnySizeRefusesOtherSizes(t *testing.T) {
	net := tinyNet(t, nil)
	ctx := context.Background()
	g := dataset.Gaussian(10, 1)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrImageSize) || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), "3×32×32") || !strings.Contains(err.Error(), "3×16×16") {
			t.Errorf("%s: %v, want one line with ErrImageSize naming 3×32×32 and 3×16×16", what, err)
		}
	}
	_, err := NewEval(Setup{Net: net, In: Range{g, 0, 10}, Out: Range{dataset.Uniform(10, 1), 0, 10}, InSet: "Gaussian", OutSet: "Uniform"})
	check("NewEval", err)
	_, err = Accuracy(ctx, net, Range{g, 0, 10}, 1, 4)
	check("Accuracy", err)
	_, err = NewScorer(net.Model, []ood.Detector{ood.MSP{}}, 1, 4).Score(ctx, g, 0, 10, nil, nil)
	check("Scorer", err)
	gs, _ := NewGridScorer(net.Model, Grid{Temperatures: []float64{1}, Magnitudes: []float64{0}}, 1, 4)
	_, err = gs.Score(ctx, g, 0, 10, nil)
	check("GridScorer", err)
	_, _, err = FitStats(ctx, net, g, 10, []string{"knn"}, FitOptions{Workers: 1, Batch: 4})
	check("FitStats", err)
	_, err = CalibrateODIN(ctx, net, Range{g, 0, 10}, "Gaussian", 1000, 0.0014, 0.95, 1, 4, nil)
	check("CalibrateODIN", err)
	// The right size, but no labels.
	small := &Network{Model: smallNet(t)}
	if _, err := Accuracy(ctx, small, Range{g, 0, 10}, 1, 4); !errors.Is(err, ErrNoLabels) {
		t.Errorf("Accuracy on noise: %v, want ErrNoLabels", err)
	}
}

// The preprocessing is part of the score identity; without one, the identity is the one of a
// network loaded before preprocessing existed. Mean and std left out keep the network's own, and
// ODIN divides ε by the std in use.
func TestAnySizePreprocessIdentity(t *testing.T) {
	plain := tinyNet(t, nil)
	crop := tinyNet(t, &models.Preprocess{Resize: 18, Crop: 16})
	std := tinyNet(t, &models.Preprocess{Std: []float64{0.5, 0.5, 0.5}})
	if crop.Model.Mean != plain.Model.Mean || crop.Model.Std != plain.Model.Std {
		t.Errorf("a resize and crop changed the normalisation: %v %v, was %v %v", crop.Model.Mean, crop.Model.Std, plain.Model.Mean, plain.Model.Std)
	}
	if std.Model.Std != [3]float32{0.5, 0.5, 0.5} || std.Model.Mean != plain.Model.Mean {
		t.Errorf("std 0.5 gives mean %v std %v", std.Model.Mean, std.Model.Std)
	}
	g := dataset.Gaussian(4, 1)
	dirs := map[string]string{}
	for name, net := range map[string]*Network{"plain": plain, "crop": crop, "std": std} {
		s := Setup{Net: net, Temperature: 1000, Magnitude: 0.0014, In: Range{g, 0, 4}, InSet: "x", Out: Range{g, 0, 4}, OutSet: "y"}
		in, _ := s.Identities([]ood.Detector{ood.MSP{}}, "")
		if other, dup := dirs[in.Dir()]; dup {
			t.Errorf("%s and %s share a score folder", name, other)
		}
		dirs[in.Dir()] = name
		if _, ok := in.Map()["preprocess"]; ok != (name != "plain") {
			t.Errorf("%s: preprocess recorded %v", name, ok)
		}
	}
	if tr := plain.Transform(); tr.Resize != 16 || tr.Crop != 16 {
		t.Errorf("default folder transform %+v, want resize and crop to the network's 16", tr)
	}
	if _, err := LoadNetworkWith(tinyONNX, LoadOptions{Preprocess: &models.Preprocess{Crop: 224}}); err == nil || !strings.Contains(err.Error(), "224") {
		t.Errorf("a 224 crop for a 16×16 network: %v", err)
	}
}
