package ood

import (
	"fmt"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// Batch is one micro-batch of images on one worker, with the shared forward pass already run.
// Detectors read Logits and Features from it and may run further passes on Exec; a Batch is
// reused from one micro-batch to the next, so the steady state allocates nothing.
type Batch struct {
	Model *models.Model
	Exec  *nn.Exec
	N     int
	// Input holds the N normalised images, 3×32×32 each, one after another.
	Input []float32
	// Logits holds N×K logits of the unperturbed images.
	Logits []float32
	// Features holds the penultimate features (after global pooling) of the unperturbed
	// images, N×D, if the network has a "features" tap.
	Features []float32

	// clean is false when Exec last ran on something other than Input.
	clean bool
	// Scratch for detectors that perturb the input.
	grad, pert, perturbed, logits2 []float32
}

// NewBatch makes a Batch for an Exec of the model's graph.
func NewBatch(m *models.Model, e *nn.Exec) *Batch {
	return &Batch{Model: m, Exec: e}
}

// Load normalises n images (3×32×32 in [0,1], one after another) and runs the shared forward pass.
func (b *Batch) Load(images []float32, n int) error {
	size := n * 3 * 32 * 32
	if len(images) < size {
		return fmt.Errorf("ood: %d values for %d images", len(images), n)
	}
	b.Input = grow(b.Input, size)
	b.Model.Normalize(b.Input, images, n)
	return b.forwardInput(n)
}

// LoadNormalized takes n images that are already normalised.
func (b *Batch) LoadNormalized(x []float32, n int) error {
	b.Input = grow(b.Input, n*3*32*32)
	copy(b.Input, x)
	return b.forwardInput(n)
}

func (b *Batch) forwardInput(n int) error {
	b.N = n
	if err := b.Exec.Forward(b.Input, n); err != nil {
		return err
	}
	b.clean = true
	b.Logits = b.Exec.Logits(b.Logits)
	if _, ok := b.Model.Graph.Taps()["features"]; ok {
		var err error
		if b.Features, err = b.Exec.Tap("features", b.Features); err != nil {
			return err
		}
	}
	return nil
}

// Restore makes sure the Exec holds the forward pass of the unperturbed input, rerunning it if
// a detector ran the network on something else since. Call it before a backward pass.
func (b *Batch) Restore() error {
	if b.clean {
		return nil
	}
	if err := b.Exec.Forward(b.Input, b.N); err != nil {
		return err
	}
	b.clean = true
	return nil
}

// ForwardPerturbed runs the network on x (N normalised images) and returns the logits, valid
// until the next call. The Exec then no longer holds the clean pass.
func (b *Batch) ForwardPerturbed(x []float32) ([]float32, error) {
	b.clean = false
	if err := b.Exec.Forward(x, b.N); err != nil {
		return nil, err
	}
	b.logits2 = b.Exec.Logits(b.logits2)
	return b.logits2, nil
}

// Classes is the number of logits per image.
func (b *Batch) Classes() int { return b.Model.Classes() }

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
