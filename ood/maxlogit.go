package ood

import "context"

// MaxLogit is the maximum-logit score of Hendrycks, Basart, Mazeika, Zou, Kwon, Mostajabi,
// Steinhardt & Song, "Scaling Out-of-Distribution Detection for Real-World Settings" (ICML 2022):
//
//	S(x) = max_j f_j(x),
//
// the largest unnormalised logit of the shared forward pass. It has no hyperparameters.
type MaxLogit struct{}

func (MaxLogit) Name() string { return "maxlogit" }

func (MaxLogit) Params() []Param { return nil }

func (MaxLogit) Score(_ context.Context, b *Batch, dst []float64) error {
	k := b.Classes()
	for i := range b.N {
		f := b.Logits[i*k : (i+1)*k]
		dst[i] = float64(f[Argmax(f)])
	}
	return nil
}
