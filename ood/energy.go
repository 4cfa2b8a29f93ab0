package ood

import (
	"context"
	"fmt"
)

// Energy is the energy score of Liu, Wang, Owens & Li, "Energy-based Out-of-distribution
// Detection" (NeurIPS 2020). The free energy of the logits f is E(x) = −T·log Σ_j exp(f_j/T);
// the score is its negative,
//
//	S(x) = T·log Σ_j exp(f_j(x)/T),
//
// computed in float64 from the shared forward pass. The paper's default is T = 1.
type Energy struct {
	Temperature float64
}

// NewEnergy returns Energy with the paper's default T = 1.
func NewEnergy() *Energy { return &Energy{Temperature: 1} }

func (d *Energy) Name() string { return "energy" }

func (d *Energy) Params() []Param { return []Param{{"temperature", &d.Temperature}} }

func (d *Energy) Score(_ context.Context, b *Batch, dst []float64) error {
	if !(d.Temperature > 0) {
		return fmt.Errorf("energy: temperature must be positive, got %g", d.Temperature)
	}
	k := b.Classes()
	for i := range b.N {
		dst[i] = logSumExp(b.Logits[i*k:(i+1)*k], d.Temperature)
	}
	return nil
}
