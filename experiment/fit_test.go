package experiment

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// FitStats adds methods to statistics of the same network and images, replaces those of other
// images, and refuses methods that fit nothing.
func TestFitStats(t *testing.T) {
	net := &Network{Model: smallNet(t), NN: "small"}
	train := dataset.Gaussian(30, 5)
	var steps []string
	opt := FitOptions{Workers: 2, Batch: 4, Step: func(s string, _ time.Duration) { steps = append(steps, s) }}
	s, kept, err := FitStats(context.Background(), net, train, 20, []string{"react"}, opt)
	if err != nil || kept {
		t.Fatalf("first fit: kept %v, %v", kept, err)
	}
	if !slices.Equal(steps, []string{"features", "react"}) {
		t.Errorf("steps %v", steps)
	}
	opt.Old = s
	s2, kept, err := FitStats(context.Background(), net, train, 20, []string{"knn"}, opt)
	if err != nil || !kept || !slices.Contains(s2.Methods, "react") || !slices.Contains(s2.Methods, "knn") {
		t.Errorf("adding knn: kept %v, methods %v, %v", kept, s2.Methods, err)
	}
	s3, kept, err := FitStats(context.Background(), net, train, 10, []string{"knn"}, opt)
	if err != nil || kept || slices.Contains(s3.Methods, "react") {
		t.Errorf("other images: kept %v, methods %v, %v", kept, s3.Methods, err)
	}
	if _, _, err := FitStats(context.Background(), net, train, 10, []string{"odin"}, opt); err == nil || !strings.Contains(err.Error(), "odin needs no fitting") {
		t.Errorf("odin: %v", err)
	}
	if _, _, err := FitStats(context.Background(), net, train, 31, []string{"knn"}, opt); err == nil {
		t.Error("31 of 30 images accepted")
	}
}

// FitStats records the network's feature tap and preprocessing in the statistics; Detectors
// uses them only with the same tap and preprocessing, and FitStats does not add to statistics
// fitted otherwise.
func TestFitStatsTapAndPreprocess(t *testing.T) {
	root := t.TempDir()
	writeImageFolder(t, root, 2, 3, 5)
	plain := tinyNet(t, nil)
	crop := tinyNet(t, &models.Preprocess{Resize: 18, Crop: 16})
	tapped, err := LoadNetworkWith(tinyONNX, LoadOptions{Features: "/Reshape_output_0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fit := func(net *Network, old *ood.Stats) (*ood.Stats, bool, string) {
		t.Helper()
		train, err := OpenSet(ctx, net, dataset.FolderPrefix+root, dataset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, kept, err := FitStats(ctx, net, train, train.Len(), []string{"react"}, FitOptions{Workers: 1, Batch: 4, Old: old})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "tiny.stats")
		if err := s.Save(path); err != nil {
			t.Fatal(err)
		}
		return s, kept, path
	}
	sPlain, _, pPlain := fit(plain, nil)
	sCrop, kept, pCrop := fit(crop, sPlain)
	sTap, _, pTap := fit(tapped, nil)
	if kept || sCrop.Preprocess != crop.PreprocessJSON() || sCrop.Preprocess == "" || sCrop.Tap != "" {
		t.Errorf("cropped fit: kept %v, preprocess %q, tap %q", kept, sCrop.Preprocess, sCrop.Tap)
	}
	if sPlain.Preprocess != "" || sPlain.Tap != "" || sTap.Tap != "/Reshape_output_0" || sTap.Preprocess != "" {
		t.Errorf("plain fit: %q %q; tapped fit: %q %q", sPlain.Preprocess, sPlain.Tap, sTap.Preprocess, sTap.Tap)
	}
	for _, c := range []struct {
		name string
		net  *Network
		path string
		kind error
	}{
		{"plain", plain, pPlain, nil},
		{"crop", crop, pCrop, nil},
		{"tapped", tapped, pTap, nil},
		{"crop on plain stats", crop, pPlain, ood.ErrOtherPreprocess},
		{"plain on crop stats", plain, pCrop, ood.ErrOtherPreprocess},
		{"tapped on plain stats", tapped, pPlain, ood.ErrOtherFeatures},
		{"plain on tapped stats", plain, pTap, ood.ErrOtherFeatures},
	} {
		_, _, err := Detectors("msp,react", c.net, 1000, 0.0014, c.path)
		if (c.kind == nil && err != nil) || (c.kind != nil && !errors.Is(err, c.kind)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
	// The evaluation refuses them too, before scoring anything.
	in, err := OpenSet(ctx, crop, dataset.FolderPrefix+root, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewEval(Setup{Net: crop, Methods: "react", Temperature: 1000, Magnitude: 0.0014, Stats: pPlain,
		In: Range{Data: in, Count: in.Len()}, Out: Range{Data: in, Count: in.Len()}, InSet: "in", OutSet: "out"})
	if !errors.Is(err, ood.ErrOtherPreprocess) {
		t.Errorf("NewEval with statistics of another preprocessing: %v", err)
	}
}
