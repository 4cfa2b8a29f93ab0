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

// Fitted is a Detector that scores with statistics of in-distribution training images, such as
// class means or a bank of training features. Its statistics are computed once by Fit, saved in
// a Stats file, and handed to later runs by Use; Score fails until one of the two has run.
type Fitted interface {
	Detector
	// Fit computes the statistics from the features of training images, keeps them for Score,
	// and records them in s under names starting with the detector's statistics prefix.
	Fit(ctx context.Context, train *Train, s *Stats) error
	// Use takes the statistics recorded in s. It fails, naming what is missing, if s holds
	// none for this detector or holds them with shapes that do not fit s's network.
	Use(s *Stats) error
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
