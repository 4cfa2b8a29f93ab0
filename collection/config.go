package collection

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// Config states a scoring run as a user gives it; Load turns it into a Scorer and the
// metadata of its score files. The command line and the Beam pipeline both go through it, so
// that their files agree.
type Config struct {
	NN, Arch, Data string // the network: a known name looked up under Data/models, or a checkpoint
	// Features and InputShape are an ONNX model's feature tap and C, H, W of a symbolic input
	// (experiment.LoadOptions); the score files record a feature tap.
	Features   string
	InputShape []int
	// Methods is a comma-separated detector list ("" is msp,odin); StatsPath the statistics of
	// fitted detectors, if any is listed.
	Methods, StatsPath     string
	Temperature, Magnitude float64
	// Threshold, if set, is a threshold file of odin calibrate: its T and ε replace Temperature
	// and Magnitude, and rows get a decision.
	Threshold string
	// Preprocess, if set, is how images become the network's input: resize, centre crop and
	// the normalisation it sets on the network, as experiment.LoadOptions takes it (a nil Mean
	// or Std keeps the network's own; a missing crop is the network's side, see
	// experiment.Network.Transform). Without it, a 32×32 network takes 32×32 images, others
	// brought to 32×32 by Resize (the zero value refuses them); a network of another size has
	// its images resized and cropped to its side. The score files record both.
	Preprocess *models.Preprocess
	Resize     dataset.ResizeMode
	Workers    int
	Batch      int
}

// ErrThresholdMethods marks a method list without odin alongside a threshold.
var ErrThresholdMethods = errors.New("a threshold decides on odin scores: the methods must include odin")

// Load loads the network and the threshold and makes the scorer and the score files' metadata.
func (c Config) Load() (*Scorer, Meta, error) {
	if c.Preprocess != nil && c.Resize.Filter != 0 {
		return nil, Meta{}, errors.New("give a resize filter or a preprocessing, not both")
	}
	net, err := experiment.LoadNetworkWith(c.NN, experiment.LoadOptions{Arch: c.Arch, Data: c.Data, Preprocess: c.Preprocess,
		Features: c.Features, InputShape: c.InputShape})
	if err != nil {
		return nil, Meta{}, err
	}
	in := net.Model.Graph.Input()
	legacy := c.Preprocess == nil && in.H == dataset.Side && in.W == dataset.Side
	if !legacy && c.Resize.Filter != 0 {
		return nil, Meta{}, fmt.Errorf("the resize filter brings images to 32×32, the network takes %d×%d", in.W, in.H)
	}
	var th *decision.Threshold
	if c.Threshold != "" {
		if th, err = decision.Load(c.Threshold); err != nil {
			return nil, Meta{}, err
		}
		if err := th.CheckNetwork(strings.TrimPrefix(net.Checkpoint, "sha256:")); err != nil {
			return nil, Meta{}, err
		}
		if err := th.CheckPreprocess(net.PreprocessJSON()); err != nil {
			return nil, Meta{}, err
		}
		if c.Methods != "" && !strings.Contains(","+c.Methods+",", ",odin,") {
			return nil, Meta{}, ErrThresholdMethods
		}
		c.Temperature, c.Magnitude = th.Temperature, th.Magnitude
	}
	dets, statsID, err := experiment.Detectors(c.Methods, net, c.Temperature, c.Magnitude, c.StatsPath)
	if err != nil {
		return nil, Meta{}, err
	}
	s := NewScorer(net.Model, dets, c.Workers, c.Batch)
	s.Resize, s.Notes = c.Resize, net.Notes
	meta := Meta{Network: net.Model.Name, Checkpoint: net.Checkpoint, Kernel: gemm.Kernel(), Methods: s.Columns(),
		Params: map[string]string{"temperature": fmtF(c.Temperature), "magnitude": fmtF(c.Magnitude), "resize": c.Resize.String()}}
	if !legacy {
		t := net.Transform()
		s.Transform = &t
		meta.Params["transform"] = transformID(t)
	}
	if p := net.Preprocess; p != nil {
		meta.Params["preprocess"] = preprocessID(*p)
	}
	if net.Features != "" {
		meta.Params["features"] = net.Features
	}
	if a := net.Model.Graph.Arithmetic(); a != "" {
		meta.Params["arithmetic"] = a // shards scored by builds that round differently do not merge
	}
	if statsID != "" {
		meta.Params["stats"] = statsID // a checksum: machines of one job agree on it
	}
	if th != nil {
		meta.Threshold = fmtF(th.Delta)
		odin := -1
		for i, d := range dets {
			if d.Name() == "odin" {
				odin = i
			}
		}
		s.Decide = func(scores []float64) string {
			if th.Decide(scores[odin]) {
				return "in"
			}
			return "out"
		}
	}
	return s, meta, nil
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// transformID is t as the score files record it.
func transformID(t dataset.Transform) string {
	if t.Filter == 0 {
		t.Filter = dataset.Bilinear
	}
	return fmt.Sprintf("resize %d, crop %d, %v", t.Resize, t.Crop, t.Filter)
}

// preprocessID is p, complete (experiment.Network.Preprocess), as the score files record it: its
// JSON, so that runs with different preprocessing never share a file or merge.
func preprocessID(p models.Preprocess) string {
	b, _ := json.Marshal(p) // numbers and strings: cannot fail
	return string(b)
}

// Columns returns the score columns of a method list ("" is msp,odin) as Scorer.Columns names
// them, without loading a network.
func Columns(methods string) ([]string, error) {
	if methods == "" {
		methods = experiment.DefaultMethods
	}
	names, err := ood.SplitMethods(methods)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		if n == "msp" {
			names[i] = "baseline"
		}
	}
	return names, nil
}
