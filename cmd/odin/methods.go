package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/ood"
)

// adviseStats adds to a library error about fitted statistics the odin fit command that makes
// them; nn, methods and statsFlag are the command's --nn, --method and --stats. Other errors pass
// through, a bad --method list becoming a usage error.
func adviseStats(err error, nn, methods, statsFlag string) error {
	hint := ""
	if statsFlag != "" {
		hint = " --stats " + statsFlag
	}
	var missing *experiment.MissingStatsError
	switch {
	case errors.As(err, &missing):
		return fmt.Errorf("%w: make it with `odin fit --nn %s --method %s%s`", err, nn, strings.Join(missing.Methods, ","), hint)
	case errors.Is(err, ood.ErrNoStats):
		return fmt.Errorf("%w: add them with `odin fit --nn %s --method %s%s`", err, nn, strings.Join(fittedIn(methods), ","), hint)
	case errors.Is(err, ood.ErrOtherNetwork), errors.Is(err, ood.ErrStatsVersion):
		return fmt.Errorf("%w: fit statistics for it with `odin fit --nn %s --method %s%s`", err, nn, strings.Join(fittedIn(methods), ","), hint)
	case errors.Is(err, ood.ErrOtherFeatures):
		return fmt.Errorf("%w: give the --features they were fitted with, or fit statistics for these with `odin fit --nn %s --method %s%s` and the same flags",
			err, nn, strings.Join(fittedIn(methods), ","), hint)
	case errors.Is(err, ood.ErrOtherPreprocess):
		return fmt.Errorf("%w: give the preprocessing flags they were fitted with, or fit statistics for these with `odin fit --nn %s --method %s%s` and the same flags",
			err, nn, strings.Join(fittedIn(methods), ","), hint)
	case errors.Is(err, ood.ErrParam):
		return usageError("%v", err)
	}
	if _, serr := ood.SplitMethods(orDefault(methods)); serr != nil {
		return usageError("--method: %v", serr)
	}
	return err
}

// adviseServe adds the way out to a served model's statistics fitted on other features or with
// another preprocessing; other errors pass through.
func adviseServe(err error) error {
	if errors.Is(err, ood.ErrOtherFeatures) || errors.Is(err, ood.ErrOtherPreprocess) {
		return fmt.Errorf("%w: serve with the preprocessing the statistics were fitted with, or fit them with this one (`odin fit --nn MODEL --method …` and the same preprocessing flags)", err)
	}
	return err
}

// fittedIn lists the methods of a --method list that need fitted statistics.
func fittedIn(methods string) []string {
	names, _ := ood.SplitMethods(orDefault(methods))
	var need []string
	for _, n := range names {
		if slices.Contains(ood.FittedNames(), n) {
			need = append(need, n)
		}
	}
	return need
}

func orDefault(methods string) string {
	if methods == "" {
		return experiment.DefaultMethods
	}
	return methods
}

// evalDetectors returns the detectors of --method with --temperature and --magnitude applied,
// reading fitted statistics from --stats or the cache's default file (experiment.Detectors),
// with the command line's advice added to its errors.
func evalDetectors(methods, statsFlag, cacheFlag, nn string, net *experiment.Network, temperature, magnitude float64) ([]ood.Detector, string, error) {
	path, err := statsPath(statsFlag, cacheFlag, nn)
	if err != nil && fittedIn(methods) != nil {
		return nil, "", err
	}
	dets, id, err := experiment.Detectors(methods, net, temperature, magnitude, path)
	if err != nil {
		return nil, "", adviseStats(err, nn, methods, statsFlag)
	}
	return dets, id, nil
}

// statsPath is --stats, or the default statistics file of network nn in the cache.
func statsPath(statsFlag, cacheFlag, nn string) (string, error) {
	if statsFlag != "" {
		return statsFlag, nil
	}
	cache, err := datadir.Cache(cacheFlag)
	if err != nil {
		return "", err
	}
	return experiment.DefaultStatsPath(cache, nn), nil
}

// adviseOtherRun adds what to do about kept scores of another run (experiment.ErrOtherRun):
// scoresFlag is --scores, "" when the cache was used.
func adviseOtherRun(err error, scoresFlag string) error {
	if !errors.Is(err, experiment.ErrOtherRun) {
		return err
	}
	if scoresFlag != "" {
		return fmt.Errorf("%w: use another --scores folder or remove it", err)
	}
	return fmt.Errorf("%w: remove that folder or score afresh with --fresh", err)
}
