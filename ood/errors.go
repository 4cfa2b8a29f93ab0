package ood

import (
	"errors"
	"fmt"
)

// Errors about fitted statistics, wrapped by what Parse, Stats.Check, Stats.CheckFeatures,
// Stats.CheckPreprocess, ReadStats and the fitted detectors return; a caller tells them apart
// with errors.Is (and *MissingError with errors.As) and says how to make what is missing. They
// carry no command-line advice.
var (
	// ErrNoStats: a fitted detector has no statistics.
	ErrNoStats = errors.New("no fitted statistics")
	// ErrOtherNetwork: statistics were fitted on another network.
	ErrOtherNetwork = errors.New("statistics fitted on another network")
	// ErrOtherFeatures: statistics were fitted on another feature tap of the network.
	ErrOtherFeatures = errors.New("statistics fitted on other features")
	// ErrOtherPreprocess: statistics were fitted on images prepared another way.
	ErrOtherPreprocess = errors.New("statistics fitted with another preprocessing")
	// ErrStatsVersion: a statistics file of another format version.
	ErrStatsVersion = errors.New("statistics file of another version")
)

// kindError is an error with its own message that errors.Is matches against a sentinel, so that
// the message need not repeat the sentinel's text.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func errorOf(kind error, format string, a ...any) error {
	return &kindError{msg: fmt.Sprintf(format, a...), kind: kind}
}
