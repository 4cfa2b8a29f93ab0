package ood

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/odin-ood/odin/models"
)

// Options configures Parse.
type Options struct {
	// Params sets hyperparameters, keyed "method.param" (e.g. "odin.temperature"). Keys of
	// methods not in the list are ignored; an unknown parameter of a listed method is an error.
	Params map[string]float64
	// Stats returns the fitted statistics. Parse calls it once, and only if a listed method
	// needs statistics; its error is returned as is, so it should say how to make them.
	Stats func() (*Stats, error)
	// Model, if set, is the network the detectors will score with: statistics fitted on
	// another network are refused (Stats.Check).
	Model *models.Model
	// Features and Preprocess are the feature tap and the preprocessing the detectors will
	// score with, as Stats records them ("" for the default tap and the network's own
	// preprocessing): statistics fitted otherwise are refused (Stats.CheckFeatures,
	// Stats.CheckPreprocess), whether or not Model is set.
	Features, Preprocess string
}

// Parse turns a comma-separated list of method names (e.g. "msp,odin,knn") into detectors, in
// that order, with the paper's defaults except for opt.Params, and hands the fitted ones their
// statistics. Names are case-insensitive; spaces around them are ignored.
func Parse(methods string, opt Options) ([]Detector, error) {
	names, err := SplitMethods(methods)
	if err != nil {
		return nil, err
	}
	var dets []Detector
	var fitted []Fitted
	for _, n := range names {
		d, err := New(n)
		if err != nil {
			return nil, err
		}
		if err := setParams(d, opt.Params); err != nil {
			return nil, err
		}
		if err := CheckParams(d); err != nil {
			return nil, err
		}
		if f, ok := d.(Fitted); ok {
			fitted = append(fitted, f)
		}
		dets = append(dets, d)
	}
	if len(fitted) == 0 {
		return dets, nil
	}
	if opt.Stats == nil {
		return nil, errorOf(ErrNoStats, "%s needs statistics of training images and none were given (methods needing none: %s)",
			fitted[0].Name(), joinNames(unfittedNames()))
	}
	s, err := opt.Stats()
	if err != nil {
		return nil, err
	}
	if opt.Model != nil {
		if err := s.Check(opt.Model); err != nil {
			return nil, err
		}
	}
	if err := s.CheckFeatures(opt.Features); err != nil {
		return nil, err
	}
	if err := s.CheckPreprocess(opt.Preprocess); err != nil {
		return nil, err
	}
	for _, f := range fitted {
		if err := f.Use(s); err != nil {
			var miss *MissingError
			if errors.As(err, &miss) {
				return nil, errorOf(ErrNoStats, "%s: stats %s hold no %s statistics (they have: %s)",
					f.Name(), s.name(), f.Name(), joinNames(nonEmpty(s.Methods)))
			}
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
	}
	return dets, nil
}

// SplitMethods splits a comma-separated list of method names, lower-cased and trimmed, and
// checks that each is known and appears once.
func SplitMethods(methods string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(methods, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			return nil, fmt.Errorf("empty method name in %q (valid: %s)", methods, joinNames(Names()))
		}
		if _, ok := detectors[n]; !ok {
			return nil, fmt.Errorf("unknown method %q (valid: %s)", n, joinNames(Names()))
		}
		if slices.Contains(names, n) {
			return nil, fmt.Errorf("method %s given twice in %q", n, methods)
		}
		names = append(names, n)
	}
	return names, nil
}

// setParams applies the "method.param" entries of p that name d.
func setParams(d Detector, p map[string]float64) error {
	prefix := d.Name() + "."
	for key, v := range p {
		name, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		found := false
		var valid []string
		for _, q := range d.Params() {
			valid = append(valid, q.Name)
			if q.Name == name {
				*q.Value = v
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s has no parameter %q (it has: %s)", d.Name(), name, joinNames(nonEmpty(valid)))
		}
	}
	return nil
}

func unfittedNames() []string {
	var names []string
	for _, n := range Names() {
		if _, ok := detectors[n]().(Fitted); !ok {
			names = append(names, n)
		}
	}
	return names
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}
