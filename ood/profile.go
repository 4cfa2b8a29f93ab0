package ood

import "github.com/odin-ood/odin/nn"

// ProfileODIN times each step of the network on the batch's images (see nn.Exec.Profile): the
// forward pass, and the backward pass of ODIN's loss at temperature T, which gives the input
// gradient. An ODIN step runs the forward steps twice (clean and perturbed) and the backward
// steps once, so a step's share of it is (2·Forward + Backward) over the steps' sum of that.
// The Exec is left holding the batch's clean forward pass.
func ProfileODIN(b *Batch, T float64, rounds int) ([]nn.StepTime, error) {
	if err := b.Restore(); err != nil {
		return nil, err
	}
	steps, err := b.Exec.Profile(b.Input, b.N, odinSeed(b, T), rounds)
	if err != nil {
		b.clean = false
		return nil, err
	}
	return steps, nil
}
