package ood

import (
	"context"
	"fmt"
	"math"
)

// GradNorm is the detector of Huang, Geng & Li, "On the Importance of Gradients for Detecting
// Distributional Shifts in the Wild" (NeurIPS 2021): the L1 norm of the gradient, with respect to
// the weights W of the final linear layer, of the KL divergence between the uniform distribution
// u and the softmax of the logits f/T. With h the penultimate features and s = softmax(f/T),
//
//	∂D_KL(u ‖ s)/∂W_jd = (s_j − 1/K)·h_d / T,   so   S(x) = (1/T)·(Σ_j |s_j − 1/K|)·(Σ_d |h_d|).
//
// The outer product makes the L1 norm a product of two L1 norms: no backward pass is needed,
// only the shared forward pass. Like the paper, we take the gradient of the weights only (not
// the bias); its default is T = 1. Computed in float64.
type GradNorm struct {
	Temperature float64
}

// NewGradNorm returns GradNorm with the paper's default T = 1.
func NewGradNorm() *GradNorm { return &GradNorm{Temperature: 1} }

func (d *GradNorm) Name() string { return "gradnorm" }

func (d *GradNorm) Params() []Param { return []Param{{"temperature", &d.Temperature}} }

func (d *GradNorm) Score(_ context.Context, b *Batch, dst []float64) error {
	T := d.Temperature
	if !(T > 0) {
		return fmt.Errorf("gradnorm: temperature must be positive, got %g", T)
	}
	h, dim, err := b.features("gradnorm")
	if err != nil {
		return err
	}
	k := b.Classes()
	for i := range b.N {
		f := b.Logits[i*k : (i+1)*k]
		m := float64(f[Argmax(f)])
		var z float64
		for _, v := range f {
			z += math.Exp((float64(v) - m) / T)
		}
		var ls float64
		for _, v := range f {
			ls += math.Abs(math.Exp((float64(v)-m)/T)/z - 1/float64(k))
		}
		var lh float64
		for _, v := range h[i*dim : (i+1)*dim] {
			lh += math.Abs(float64(v))
		}
		dst[i] = ls * lh / T
	}
	return nil
}
