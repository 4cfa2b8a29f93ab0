package experiment

import (
	"context"

	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/ood"
)

// CalibrateODIN scores the held-out in-distribution images r with ODIN at (T, ε) on workers ×
// batch and returns the threshold that accepts the fraction tpr of them (decision.Calibrate),
// recording the network and the images; set names r's set. progress, if not nil, is told the
// images done.
func CalibrateODIN(ctx context.Context, net *Network, r Range, set string, temperature, magnitude, tpr float64,
	workers, batch int, progress func(done int)) (*decision.Threshold, error) {
	if err := ood.CheckODIN(temperature, magnitude); err != nil {
		return nil, err
	}
	det := &ood.ODIN{Temperature: temperature, Magnitude: magnitude}
	scores, err := NewScorer(net.Model, []ood.Detector{det}, workers, batch).Score(ctx, r.Data, r.First, r.Count, nil, progress)
	if err != nil {
		return nil, err
	}
	delta, accepted, err := decision.Calibrate(scores[0], tpr)
	if err != nil {
		return nil, err
	}
	return &decision.Threshold{Method: "odin", Temperature: temperature, Magnitude: magnitude, Delta: delta,
		TPR: tpr, Accepted: accepted, NN: net.NN, Network: net.Model.Name, Checkpoint: net.Digest(),
		InDataset: set, First: r.First, Count: r.Count, Preprocess: net.PreprocessJSON()}, nil
}
