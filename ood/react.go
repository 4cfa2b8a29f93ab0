package ood

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// ReAct is the detector of Sun, Guo & Li, "ReAct: Out-of-distribution Detection With Rectified
// Activations" (NeurIPS 2021). The penultimate features h are clipped at c, the p-th percentile
// of the penultimate activations of in-distribution training images (all units of all images
// pooled), then passed through the network's final linear layer (W, b) and scored by energy:
//
//	h̄_d = min(h_d, c),   S(x) = log Σ_j exp((W·h̄ + b)_j),
//
// in float64. The paper's default is p = 90. Fit records the training activations' percentiles
// at every tenth of a percent (as NumPy's percentile computes them, with linear interpolation),
// so that p can be searched without refitting; a p between two recorded tenths interpolates
// linearly between them.
type ReAct struct {
	Percentile float64
	q          []float64 // percentiles 0, 0.1, …, 100 of the training activations
}

// reactSteps is the number of recorded percentiles minus one: tenths of a percent.
const reactSteps = 1000

// NewReAct returns ReAct with the paper's default p = 90.
func NewReAct() *ReAct { return &ReAct{Percentile: 90} }

func (d *ReAct) Name() string { return "react" }

func (d *ReAct) Params() []Param { return []Param{{"percentile", &d.Percentile}} }

// Fit records the percentiles of the training activations.
func (d *ReAct) Fit(_ context.Context, t *Train, s *Stats) error {
	if err := t.check(); err != nil {
		return err
	}
	a := slices.Clone(t.Features)
	slices.Sort(a)
	q := make([]float64, reactSteps+1)
	for i := range q {
		q[i] = percentileSorted(a, float64(i)/reactSteps)
	}
	s.Put64("react.percentiles", q, reactSteps+1)
	s.AddMethod(d.Name())
	return d.Use(s)
}

// percentileSorted returns the quantile f ∈ [0, 1] of the ascending values a with linear
// interpolation between closest ranks: NumPy's default "linear" method.
func percentileSorted(a []float32, f float64) float64 {
	pos := f * float64(len(a)-1)
	lo := int(math.Floor(pos))
	if lo >= len(a)-1 {
		return float64(a[len(a)-1])
	}
	t := pos - float64(lo)
	x, y := float64(a[lo]), float64(a[lo+1])
	// NumPy's lerp, which is exact at both ends.
	if t >= 0.5 {
		return y - (y-x)*(1-t)
	}
	return x + (y-x)*t
}

func (d *ReAct) Use(s *Stats) error {
	q, _, err := s.Get64("react.percentiles", reactSteps+1)
	if err != nil {
		return err
	}
	d.q = q
	return nil
}

// Threshold returns the clipping threshold c for the current percentile.
func (d *ReAct) Threshold() (float64, error) {
	if d.q == nil {
		return 0, errNotFitted("react")
	}
	p := d.Percentile
	if !(p >= 0 && p <= 100) {
		return 0, fmt.Errorf("react: percentile must be in [0, 100], got %g", p)
	}
	pos := p / 100 * reactSteps
	i := int(math.Floor(pos))
	if i >= reactSteps {
		return d.q[reactSteps], nil
	}
	t := pos - float64(i)
	if math.Abs(t) < 1e-9 {
		return d.q[i], nil
	}
	if math.Abs(1-t) < 1e-9 {
		return d.q[i+1], nil
	}
	return d.q[i] + (d.q[i+1]-d.q[i])*t, nil
}

func (d *ReAct) Score(_ context.Context, b *Batch, dst []float64) error {
	c, err := d.Threshold()
	if err != nil {
		return err
	}
	h, dim, err := b.features("react")
	if err != nil {
		return err
	}
	w, bias, ok := b.Model.Graph.Linear()
	if !ok {
		return fmt.Errorf("react: network %s does not end in a linear layer", b.Model.Name)
	}
	k := b.Classes()
	hc := b.f64("react.h", dim)
	f := b.f64("react.f", k)
	for i := range b.N {
		for j, v := range h[i*dim : (i+1)*dim] {
			hc[j] = min(float64(v), c)
		}
		for j := range k {
			s := float64(bias[j])
			for t, v := range w[j*dim : (j+1)*dim] {
				s += float64(v) * hc[t]
			}
			f[j] = s
		}
		dst[i] = logSumExp64(f)
	}
	return nil
}

// errNotFitted is the error of a Fitted detector scoring without statistics.
func errNotFitted(method string) error {
	return errorOf(ErrNoStats, "%s: no fitted statistics", method)
}
