package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// prepFlags are the flags that say how a network's images are prepared (models.Preprocess) and,
// for an ONNX model, which value the detectors read as features and the input's shape. Every
// command that loads a network and reads images registers them (netFlags.registerPrep).
type prepFlags struct {
	fs                                    *flag.FlagSet // to tell the flags given from defaults
	file, mean, std, interpolation, shape string
	resize, crop                          int
	scale                                 float64
	features                              string
}

func (p *prepFlags) register(fs *flag.FlagSet) { p.registerExcept(fs) }

// registerExcept registers the flags but those named in skip: odin score and odin serve have
// a --resize of their own (the filter for 32×32 networks) and no feature tap option.
func (p *prepFlags) registerExcept(fs *flag.FlagSet, skip ...string) {
	p.fs = fs
	all := flag.NewFlagSet("", flag.ContinueOnError)
	p.define(all)
	all.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(skip, f.Name) {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
}

func (p *prepFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&p.file, "preprocess", "", "JSON file of the network's preprocessing: mean, std, resize, crop, interpolation, scale (docs/models.md); the flags below override its fields")
	fs.StringVar(&p.mean, "mean", "", "per-channel `mean` R,G,B of the normalisation, in the units of --scale (default: the network's own)")
	fs.StringVar(&p.std, "std", "", "per-channel `std` R,G,B of the normalisation; ODIN's ε is divided by it (default: the network's own)")
	fs.IntVar(&p.resize, "resize", 0, "images of folder:PATH sets: resize the shorter side to this many pixels (default: the network's side when --crop is not given)")
	fs.IntVar(&p.crop, "crop", 0, "images of folder:PATH sets: centre crop of this side, which must be the network's (default: the network's side)")
	fs.StringVar(&p.interpolation, "interpolation", "", "resize filter of folder:PATH sets: bilinear or bicubic, antialiased as torchvision's Resize on PIL images (default bilinear)")
	fs.Float64Var(&p.scale, "scale", 0, "factor from 8-bit samples to the units of --mean and --std (default 1/255, torchvision's ToTensor)")
	fs.StringVar(&p.features, "features", "", "ONNX model: node or value whose output the feature detectors read (default: the input of the final Gemm/MatMul)")
	fs.StringVar(&p.shape, "input-shape", "", "ONNX model: C,H,W of an input left symbolic")
}

// given lists the preprocessing flags set on the command line.
func (p *prepFlags) given() map[string]bool {
	g := map[string]bool{}
	if p.fs != nil {
		p.fs.Visit(func(f *flag.Flag) { g[f.Name] = true })
	}
	return g
}

// preprocess is the preprocessing the flags give: nil when none is given (the network's own).
func (p *prepFlags) preprocess() (*models.Preprocess, error) {
	g := p.given()
	var pre models.Preprocess
	set := false
	if p.file != "" {
		data, err := os.ReadFile(p.file)
		if err != nil {
			return nil, usageError("--preprocess: %v", err)
		}
		if pre, err = models.ParsePreprocess(data); err != nil {
			return nil, usageError("--preprocess %s: %v", p.file, err)
		}
		set = true
	}
	var err error
	if g["mean"] {
		if pre.Mean, err = parseTriple("mean", p.mean); err != nil {
			return nil, err
		}
		set = true
	}
	if g["std"] {
		if pre.Std, err = parseTriple("std", p.std); err != nil {
			return nil, err
		}
		set = true
	}
	if g["resize"] {
		pre.Resize, set = p.resize, true
	}
	if g["crop"] {
		pre.Crop, set = p.crop, true
	}
	if g["interpolation"] {
		pre.Interpolation, set = p.interpolation, true
	}
	if g["scale"] {
		if !(p.scale > 0) {
			return nil, usageError("--scale %v: must be positive", p.scale)
		}
		pre.Scale, set = p.scale, true
	}
	if !set {
		return nil, nil
	}
	if err := checkPartial(pre); err != nil {
		return nil, err
	}
	return &pre, nil
}

// checkPartial checks what the flags gave before the network's own values complete it.
func checkPartial(p models.Preprocess) error {
	q := p
	if q.Mean == nil {
		q.Mean = []float64{0, 0, 0}
	}
	if q.Std == nil {
		q.Std = []float64{1, 1, 1}
	}
	if q.Scale == 0 {
		q.Scale = 1
	}
	if err := q.Check(); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// parseTriple reads the three comma-separated values of --mean or --std.
func parseTriple(name, s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, usageError("--%s %q: want three comma-separated values R,G,B", name, s)
	}
	out := make([]float64, 3)
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, usageError("--%s %q: %q is not a number", name, s, part)
		}
		out[i] = v
	}
	return out, nil
}

// options fills the ONNX and preprocessing fields of opt from the flags.
func (p *prepFlags) options(opt *experiment.LoadOptions) error {
	pre, err := p.preprocess()
	if err != nil {
		return err
	}
	opt.Preprocess, opt.Features = pre, p.features
	if p.shape != "" {
		if opt.InputShape, err = parseShape(p.shape); err != nil {
			return err
		}
	}
	return nil
}

// args are the preprocessing and ONNX flags given, as command-line arguments (for the odin eval
// command that odin tune prints).
func (p *prepFlags) args() []string {
	var out []string
	g := p.given()
	for _, name := range []string{"preprocess", "mean", "std", "resize", "crop", "interpolation", "scale", "features", "input-shape"} {
		if g[name] {
			out = append(out, "--"+name, p.fs.Lookup(name).Value.String())
		}
	}
	return out
}

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
