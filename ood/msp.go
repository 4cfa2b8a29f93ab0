package ood

import "context"

// MSP is the baseline detector of Hendrycks & Gimpel, "A Baseline for Detecting Misclassified
// and Out-of-Distribution Examples in Neural Networks" (ICLR 2017): the maximum softmax
// probability, S(x) = max_i softmax(f(x))_i, computed in float64 from the shared forward pass.
type MSP struct{}

func (MSP) Name() string { return "msp" }

func (MSP) Params() []Param { return nil }

func (MSP) Score(_ context.Context, b *Batch, dst []float64) error {
	k := b.Classes()
	for i := range b.N {
		dst[i] = MaxSoftmax(b.Logits[i*k:(i+1)*k], 1)
	}
	return nil
}
