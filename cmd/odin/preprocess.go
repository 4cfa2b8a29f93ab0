package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/prepflag"
	"github.com/odin-ood/odin/models"
)

// prepFlags are the flags that say how a network's images are prepared (models.Preprocess) and,
// for an ONNX model, which value the detectors read as features and the input's shape. Every
// command that loads a network and reads images registers them (netFlags.registerPrep); they are
// internal/prepflag's, which odin-beam shares, and their errors are usage errors here.
type prepFlags struct{ prepflag.Flags }

func (p *prepFlags) register(fs *flag.FlagSet) { p.Register(fs) }

// registerExcept registers the flags but those named in skip: odin score and odin serve have
// a --resize of their own (the filter for 32×32 networks).
func (p *prepFlags) registerExcept(fs *flag.FlagSet, skip ...string) { p.Register(fs, skip...) }

// preprocess is the preprocessing the flags give: nil when none is given (the network's own).
func (p *prepFlags) preprocess() (*models.Preprocess, error) {
	pre, err := p.Preprocess()
	if err != nil {
		return nil, usageError("%v", err)
	}
	return pre, nil
}

// options fills the ONNX and preprocessing fields of opt from the flags.
func (p *prepFlags) options(opt *experiment.LoadOptions) error {
	pre, err := p.preprocess()
	if err != nil {
		return err
	}
	shape, err := p.InputShape()
	if err != nil {
		return usageError("%v", err)
	}
	opt.Preprocess, opt.Features, opt.InputShape = pre, p.Features(), shape
	return nil
}

// args are the preprocessing and ONNX flags given, as command-line arguments (for the odin eval
// command that odin tune prints).
func (p *prepFlags) args() []string { return p.Args() }

// printNotes tells the user, once, what importing the network changed (an ONNX model's removed
// final Softmax).
func printNotes(stderr io.Writer, net *experiment.Network) {
	for _, n := range net.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
}

// adviseImages adds the command line's way out to an image-size error.
func adviseImages(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, experiment.ErrImageSize) {
		return fmt.Errorf("%w: name an image folder as %sPATH (resized and cropped to the network's side, or give --preprocess/--resize/--crop)", err, dataset.FolderPrefix)
	}
	return err
}
