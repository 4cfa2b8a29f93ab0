package decision

import (
	"context"
	"fmt"
	"sync"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// decideBatch is the micro-batch a Decider scores at most at once: memory stays that of a few
// images, and a batch of 8 runs as fast per image as larger ones (README, Speed).
const decideBatch = 8

// Decider applies a threshold to inputs of the network it was calibrated on: it scores images
// with ODIN at the threshold's T and ε and decides each. It is safe for concurrent use; each
// concurrent call has its own engine buffers, kept for later calls.
type Decider struct {
	Model     *models.Model
	Threshold *Threshold
	batches   sync.Pool // *ood.Batch
}

// NewDecider makes a Decider of a loaded model and a threshold calibrated on it (the caller
// checks that, with CheckNetwork; Open does).
func NewDecider(m *models.Model, th *Threshold) *Decider {
	return &Decider{Model: m, Threshold: th}
}

// Open loads a checkpoint (models.Load, the architecture inferred) and a threshold file, and
// refuses a threshold calibrated on another checkpoint (ErrOtherNetwork).
func Open(checkpoint, thresholdFile string) (*Decider, error) {
	th, err := Load(thresholdFile)
	if err != nil {
		return nil, err
	}
	digest, err := Digest(checkpoint)
	if err != nil {
		return nil, err
	}
	if err := th.CheckNetwork(digest); err != nil {
		return nil, fmt.Errorf("%s: %w", thresholdFile, err)
	}
	// The Decider takes images normalised the network's own way.
	if err := th.CheckPreprocess(""); err != nil {
		return nil, fmt.Errorf("%s: %w", thresholdFile, err)
	}
	m, err := models.Load(checkpoint, "")
	if err != nil {
		return nil, err
	}
	return NewDecider(m, th), nil
}

// Score returns the ODIN scores of n images, each of the network's input size
// (Model.Graph.Input().Size() values in [0, 1], channel-major: dataset.Pixels for the CIFAR
// networks, as dataset.FromImage writes them; dataset.DecodeTransformed for other sizes), one
// after another. A network at another size or from an ONNX file is loaded with
// experiment.LoadNetworkWith and given to NewDecider.
func (d *Decider) Score(ctx context.Context, images []float32, n int) ([]float64, error) {
	size := d.Model.Graph.Input().Size()
	if n < 0 || len(images) != n*size {
		return nil, fmt.Errorf("%d values for %d images of %d values", len(images), n, size)
	}
	b, _ := d.batches.Get().(*ood.Batch)
	if b == nil {
		b = ood.NewBatch(d.Model, d.Model.Graph.NewExec(decideBatch))
	}
	defer d.batches.Put(b)
	det := d.Threshold.Detector()
	scores := make([]float64, n)
	for lo := 0; lo < n; lo += decideBatch {
		hi := min(n, lo+decideBatch)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := b.Load(images[lo*size:hi*size], hi-lo); err != nil {
			return nil, err
		}
		if err := det.Score(ctx, b, scores[lo:hi]); err != nil {
			return nil, err
		}
	}
	return scores, nil
}

// Decide reports whether an input of the given score is accepted as in-distribution.
func (d *Decider) Decide(score float64) bool { return d.Threshold.Decide(score) }

// String describes the decider for logs.
func (d *Decider) String() string {
	return fmt.Sprintf("%s: odin T=%g ε=%g, in-distribution when score ≥ %g", d.Model.Name,
		d.Threshold.Temperature, d.Threshold.Magnitude, d.Threshold.Delta)
}
