package experiment

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// smallEval evaluates a small random DenseNet-BC on two noise sets.
func smallEval(t *testing.T, dir string, eps float64) *Eval {
	t.Helper()
	m, err := models.Load(filepath.Join("..", "models", "testdata", "densenet-22-4.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	dets := []ood.Detector{ood.MSP{}, &ood.ODIN{Temperature: 1000, Magnitude: eps}}
	return &Eval{
		Scorer:    NewScorer(m, dets, 2, 4),
		In:        Range{Data: dataset.Gaussian(200, 1), First: 20, Count: 150},
		Out:       Range{Data: dataset.Uniform(200, 2), First: 20, Count: 150},
		ScoresDir: dir,
		Identity:  map[string]string{"magnitude": strconv.FormatFloat(eps, 'g', -1, 64)},
	}
}

func TestResumeGivesIdenticalFiles(t *testing.T) {
	whole := t.TempDir()
	want, err := smallEval(t, whole, 0.002).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	cut := t.TempDir()
	ev := smallEval(t, cut, 0.002)
	ctx, cancel := context.WithCancel(context.Background())
	ev.Progress = func(set string, done, total int) {
		if set == "out" && done >= total/2 {
			cancel()
		}
	}
	if _, err := ev.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	part, _ := os.ReadFile(filepath.Join(cut, "out.csv"))
	rows := bytes.Count(part, []byte("\n")) - 1
	if rows <= 0 || rows >= 150 {
		t.Fatalf("interrupted run kept %d OOD rows, want some but not all", rows)
	}

	got, err := smallEval(t, cut, 0.002).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Resumed != 150+rows {
		t.Errorf("resumed %d images, want %d", got.Resumed, 150+rows)
	}
	for _, f := range []string{"in.csv", "out.csv"} {
		a, _ := os.ReadFile(filepath.Join(whole, f))
		b, _ := os.ReadFile(filepath.Join(cut, f))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs after resuming (%d vs %d bytes)", f, len(a), len(b))
		}
	}
	for d := range want.Results {
		if want.Results[d] != got.Results[d] {
			t.Errorf("%s: metrics %+v after resuming, %+v in one go", want.Methods[d], got.Results[d], want.Results[d])
		}
	}

	// Scores made with other parameters are not mixed in.
	_, err = smallEval(t, cut, 0.001).Run(context.Background())
	if !errors.Is(err, ErrOtherRun) || !strings.Contains(err.Error(), "magnitude") || strings.Contains(err.Error(), "--") {
		t.Errorf("resuming with another magnitude: %v, want ErrOtherRun without flag advice", err)
	}
}

// TestScoresDeterministic: baseline and ODIN scores are bit-identical for any worker count and
// micro-batch size.
func TestScoresDeterministic(t *testing.T) {
	m, err := models.Load(filepath.Join("..", "models", "testdata", "densenet-22-4.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	ds := dataset.Uniform(37, 3)
	var first [][]float64
	for _, wb := range [][2]int{{1, 8}, {2, 8}, {2, 3}, {1, 37}} {
		dets := []ood.Detector{ood.MSP{}, &ood.ODIN{Temperature: 1000, Magnitude: 0.0014}}
		s, err := NewScorer(m, dets, wb[0], wb[1]).Score(context.Background(), ds, 0, 37, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = s
			continue
		}
		for d := range s {
			for i := range s[d] {
				if s[d][i] != first[d][i] {
					t.Fatalf("workers %d batch %d: %s score of image %d is %v, with 1 worker %v", wb[0], wb[1], dets[d].Name(), i, s[d][i], first[d][i])
				}
			}
		}
	}
}
