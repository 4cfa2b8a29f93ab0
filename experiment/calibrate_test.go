package experiment

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/ood"
)

// CalibrateODIN's threshold accepts the requested share of the images it was calibrated on, scored
// as Eval scores them, and records the network and the images.
func TestCalibrateODIN(t *testing.T) {
	net := &Network{Model: smallNet(t), NN: "small", Checkpoint: "sha256:abcd"}
	r := Range{Data: dataset.Gaussian(50, 4), First: 5, Count: 40}
	th, err := CalibrateODIN(context.Background(), net, r, "Gaussian", 100, 0.002, 0.9, 2, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err != nil {
		t.Fatal(err)
	}
	scores, err := NewScorer(net.Model, []ood.Detector{th.Detector()}, 1, 3).Score(context.Background(), r.Data, r.First, r.Count, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := th.Accepts(scores[0]); got != th.Accepted || got < 0.9 {
		t.Errorf("accepts %v of the calibration images, threshold says %v, asked 0.9", got, th.Accepted)
	}
	if th.Checkpoint != "abcd" || th.NN != "small" || th.InDataset != "Gaussian" || th.First != 5 || th.Count != 40 {
		t.Errorf("threshold %+v", th)
	}
	if _, err := CalibrateODIN(context.Background(), net, r, "Gaussian", math.NaN(), 0, 0.9, 1, 4, nil); !errors.Is(err, ood.ErrParam) {
		t.Errorf("T = NaN: %v", err)
	}
}
