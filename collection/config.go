package collection

import (
	"errors"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/ood"
)

// Config states a scoring run as a user gives it; Load turns it into a Scorer and the
// metadata of its score files. The command line and the Beam pipeline both go through it, so
// that their files agree.
type Config struct {
	NN, Arch, Data string // the network: a known name looked up under Data/models, or a checkpoint
	// Methods is a comma-separated detector list ("" is msp,odin); StatsPath the statistics of
	// fitted detectors, if any is listed.
	Methods, StatsPath     string
	Temperature, Magnitude float64
	// Threshold, if set, is a threshold file of odin calibrate: its T and ε replace Temperature
	// and Magnitude, and rows get a decision.
	Threshold string
	Resize    dataset.ResizeMode
	Workers   int
	Batch     int
}

// ErrThresholdMethods marks a method list without odin alongside a threshold.
var ErrThresholdMethods = errors.New("a threshold decides on odin scores: the methods must include odin")

// Load loads the network and the threshold and makes the scorer and the score files' metadata.
func (c Config) Load() (*Scorer, Meta, error) {
	net, err := experiment.LoadNetwork(c.NN, c.Arch, c.Data)
	if err != nil {
		return nil, Meta{}, err
	}
	var th *decision.Threshold
	if c.Threshold != "" {
		if th, err = decision.Load(c.Threshold); err != nil {
			return nil, Meta{}, err
		}
		if err := th.CheckNetwork(strings.TrimPrefix(net.Checkpoint, "sha256:")); err != nil {
			return nil, Meta{}, err
		}
		if c.Methods != "" && !strings.Contains(","+c.Methods+",", ",odin,") {
			return nil, Meta{}, ErrThresholdMethods
		}
		c.Temperature, c.Magnitude = th.Temperature, th.Magnitude
	}
	dets, statsID, err := experiment.Detectors(c.Methods, net.Model, c.Temperature, c.Magnitude, c.StatsPath)
	if err != nil {
		return nil, Meta{}, err
	}
	s := NewScorer(net.Model, dets, c.Workers, c.Batch)
	s.Resize = c.Resize
	meta := Meta{Network: net.Model.Name, Checkpoint: net.Checkpoint, Kernel: gemm.Kernel(), Methods: s.Columns(),
		Params: map[string]string{"temperature": fmtF(c.Temperature), "magnitude": fmtF(c.Magnitude), "resize": c.Resize.String()}}
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
