package prepflag

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/models"
)

// Names are the flags Register defines, in the order Args lists them.
var Names = []string{"preprocess", "mean", "std", "resize", "crop", "interpolation", "scale", "features", "input-shape"}

// Flags holds the values of the preprocessing and ONNX flags of one flag set.
type Flags struct {
	fs                                    *flag.FlagSet   // to tell the flags given from defaults
	own                                   map[string]bool // the flags registered here, not a command's own of the same name
	file, mean, std, interpolation, shape string
	resize, crop                          int
	scale                                 float64
	features                              string
}

// Register defines the flags on fs, but those named in skip: odin score, odin serve and
// odin-beam have a --resize of their own (the filter for 32×32 networks), odin serve no feature
// tap or input shape.
func (p *Flags) Register(fs *flag.FlagSet, skip ...string) {
	p.fs, p.own = fs, map[string]bool{}
	all := flag.NewFlagSet("", flag.ContinueOnError)
	p.define(all)
	all.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(skip, f.Name) {
			fs.Var(f.Value, f.Name, f.Usage)
			p.own[f.Name] = true
		}
	})
}

func (p *Flags) define(fs *flag.FlagSet) {
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

// Given lists the flags registered here that were given on the command line: a command's own
// flag of a skipped name (odin score's --resize filter) is not one of them.
func (p *Flags) Given() map[string]bool {
	g := map[string]bool{}
	if p.fs != nil {
		p.fs.Visit(func(f *flag.Flag) {
			if p.own[f.Name] {
				g[f.Name] = true
			}
		})
	}
	return g
}

// Preprocess is the preprocessing the flags give: nil when none is given (the network's own).
// Mean, Std and Scale left out stay unset, for the network's own values to complete.
func (p *Flags) Preprocess() (*models.Preprocess, error) {
	g := p.Given()
	var pre models.Preprocess
	set := false
	if p.file != "" {
		data, err := os.ReadFile(p.file)
		if err != nil {
			return nil, fmt.Errorf("--preprocess: %v", err)
		}
		if pre, err = models.ParsePreprocess(data); err != nil {
			return nil, fmt.Errorf("--preprocess %s: %v", p.file, err)
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
			return nil, fmt.Errorf("--scale %v: must be positive", p.scale)
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
	return q.Check()
}

// parseTriple reads the three comma-separated values of --mean or --std.
func parseTriple(name, s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("--%s %q: want three comma-separated values R,G,B", name, s)
	}
	out := make([]float64, 3)
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("--%s %q: %q is not a number", name, s, part)
		}
		out[i] = v
	}
	return out, nil
}

// Features is --features: the ONNX feature tap, "" for the default.
func (p *Flags) Features() string { return p.features }

// InputShape is --input-shape: nil when it is not given.
func (p *Flags) InputShape() ([]int, error) {
	if p.shape == "" {
		return nil, nil
	}
	return ParseShape(p.shape)
}

// ParseShape reads the value of --input-shape, "C,H,W" (or "N,C,H,W").
func ParseShape(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 && len(parts) != 4 {
		return nil, fmt.Errorf("--input-shape %q: want C,H,W", s)
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 || v > 1<<16 {
			return nil, fmt.Errorf("--input-shape %q: %q is not a size", s, p)
		}
		out[i] = v
	}
	return out, nil
}

// Args are the flags given, as command-line arguments (for a command printed for the user).
func (p *Flags) Args() []string {
	var out []string
	g := p.Given()
	for _, name := range Names {
		if g[name] {
			out = append(out, "--"+name, p.fs.Lookup(name).Value.String())
		}
	}
	return out
}
