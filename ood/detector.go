package ood

import (
	"context"
	"math"
)

// Detector scores images: higher means more in-distribution, for every detector.
type Detector interface {
	// Name is the detector's name as users type it (--method).
	Name() string
	// Params lists the detector's hyperparameters by name, as pointers that a search may set.
	Params() []Param
	// Score writes one score per image of the batch into dst[:b.N].
	Score(ctx context.Context, b *Batch, dst []float64) error
}

// Param is a named hyperparameter of a detector.
type Param struct {
	Name  string
	Value *float64
}

func exp(x float64) float64 { return math.Exp(x) }

// scratchInput returns a buffer of n values for a perturbed copy of the input.
func (b *Batch) scratchInput(n int) []float32 {
	b.perturbed = grow(b.perturbed, n)
	return b.perturbed
}
