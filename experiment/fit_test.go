package experiment

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odin-ood/odin/dataset"
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
