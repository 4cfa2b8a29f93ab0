package ood

import (
	"fmt"
	"sort"
	"strings"
)

// detectors maps each --method name to a constructor returning the detector with the paper's
// default hyperparameters. Adding a detector is one file plus one line here.
var detectors = map[string]func() Detector{
	"msp":             func() Detector { return MSP{} },
	"odin":            func() Detector { return NewODIN() },
	"energy":          func() Detector { return NewEnergy() },
	"maxlogit":        func() Detector { return MaxLogit{} },
	"gradnorm":        func() Detector { return NewGradNorm() },
	"mahalanobis":     func() Detector { return NewMahalanobis() },
	"mahalanobis_pre": func() Detector { return NewMahalanobisPre() },
	"knn":             func() Detector { return NewKNN() },
	"react":           func() Detector { return NewReAct() },
	"vim":             func() Detector { return NewViM() },
}

// Names lists the detector names New accepts, sorted.
func Names() []string {
	names := make([]string, 0, len(detectors))
	for n := range detectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FittedNames lists the names of the detectors that need fitted statistics, sorted.
func FittedNames() []string {
	var names []string
	for _, n := range Names() {
		if _, ok := detectors[n]().(Fitted); ok {
			names = append(names, n)
		}
	}
	return names
}

// New returns the named detector with its default hyperparameters.
func New(name string) (Detector, error) {
	mk, ok := detectors[name]
	if !ok {
		return nil, fmt.Errorf("unknown method %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return mk(), nil
}
