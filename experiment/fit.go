package experiment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/ood"
)

// FitOptions configures FitStats.
type FitOptions struct {
	Workers, Batch int
	// Old, if not nil, are statistics fitted before: kept and added to when they were fitted on
	// the same network, feature tap, preprocessing and training images, so that methods can be
	// fitted one at a time.
	Old *ood.Stats
	// Progress, if set, is told the training images whose features are done.
	Progress func(done int)
	// Step, if set, is told how long each step took: "features", then each method's name.
	Step func(step string, took time.Duration)
}

// FitStats extracts the features of the first n images of a training set and fits the
// statistics of the named detectors (each must be one of ood.FittedNames). The statistics record
// net's feature tap and preprocessing (ood.Stats.Tap, Preprocess), which every reader checks.
// kept reports that opt.Old was added to rather than replaced.
func FitStats(ctx context.Context, net *Network, train dataset.Dataset, n int, methods []string, opt FitOptions) (s *ood.Stats, kept bool, err error) {
	for _, name := range methods {
		if !slices.Contains(ood.FittedNames(), name) {
			return nil, false, fmt.Errorf("%s needs no fitting (methods that fit: %s)", name, strings.Join(ood.FittedNames(), ", "))
		}
	}
	if n < 1 || n > train.Len() {
		return nil, false, fmt.Errorf("%w: %s has %d images, asked %d", ErrRange, train.Name(), train.Len(), n)
	}
	if err := CheckImages(net.Model, train); err != nil {
		return nil, false, err
	}
	step := func(name string, start time.Time) {
		if opt.Step != nil {
			opt.Step(name, time.Since(start))
		}
	}
	start := time.Now()
	tr, err := ood.Extract(ctx, net.Model, train, n, opt.Workers, opt.Batch, opt.Progress)
	if err != nil {
		return nil, false, err
	}
	step("features", start)
	s = ood.NewStats(net.Model, net.NN, tr)
	s.Tap, s.Preprocess = net.Features, net.PreprocessJSON()
	if old := opt.Old; old != nil && old.Check(net.Model) == nil && old.Train == tr.Name && old.Images == tr.N &&
		old.Tap == s.Tap && old.Preprocess == s.Preprocess {
		s, kept = old, true
		s.NN = net.NN
	}
	for _, name := range methods {
		d, err := ood.New(name)
		if err != nil {
			return nil, false, err
		}
		if err := ood.CheckParams(d); err != nil {
			return nil, false, err
		}
		start := time.Now()
		if err := d.(ood.Fitted).Fit(ctx, tr, s); err != nil {
			return nil, false, err
		}
		step(name, start)
	}
	return s, kept, nil
}
