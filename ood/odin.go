package ood

import (
	"context"
	"fmt"

	"github.com/odin-ood/odin/nn"
)

// ODIN is the detector of Liang, Li & Srikant, "Enhancing the Reliability of Out-of-distribution
// Image Detection in Neural Networks" (ICLR 2018). With temperature T and magnitude ε:
//
//	ŷ = argmax f(x),  g = ∇ₓ CE(f(x)/T, ŷ),  x̃ = x − ε·sign(g)/σ_c,  S(x) = max_i softmax(f(x̃)/T)_i
//
// where x is the normalised image, σ_c the normalisation's standard deviation of channel c,
// and sign(0) = +1. There is no clipping. S is computed in float64 and lies near 1/K when T is
// large. The paper's defaults are T = 1000 and ε = 0.0014 (CIFAR-10 DenseNet).
type ODIN struct {
	Temperature float64
	Magnitude   float64
}

// NewODIN returns ODIN with the paper's defaults.
func NewODIN() *ODIN { return &ODIN{Temperature: 1000, Magnitude: 0.0014} }

func (d *ODIN) Name() string { return "odin" }

func (d *ODIN) Params() []Param {
	return []Param{{"temperature", &d.Temperature}, {"magnitude", &d.Magnitude}}
}

func (d *ODIN) Score(_ context.Context, b *Batch, dst []float64) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("odin: %w", err)
	}
	// The seed may run on a later micro-batch (see inputGradient): it reads the settings then.
	grad, err := b.inputGradient(d, func() (string, []float32, error) { return "", odinSeed(b, d.Temperature), nil })
	if err != nil {
		return err
	}
	return ScorePerturbed(b, grad, d.Temperature, d.Magnitude, dst)
}

// odinSeed returns the gradient of CE(f/T, argmax f) with respect to the logits f,
// (softmax(f/T) − onehot(ŷ))/T, for the batch's images, in the batch's scratch.
func odinSeed(b *Batch, T float64) []float32 {
	k := b.Classes()
	b.pert = grow(b.pert, b.N*k)
	for i := range b.N {
		f := b.Logits[i*k : (i+1)*k]
		g := b.pert[i*k : (i+1)*k]
		softmaxT(g, f, T)
		g[Argmax(f)] -= 1
		for j := range g {
			g[j] /= float32(T)
		}
	}
	return b.pert[:b.N*k]
}

// InputGradient returns ∇ₓ CE(f(x)/T, argmax f(x)) for the batch's images (N of the graph's input shape), valid
// until the next call on this Batch. The gradient of the loss with respect to the logits is
// (softmax(f/T) − onehot(ŷ))/T; the engine carries it back to the input.
func InputGradient(b *Batch, T float64) ([]float32, error) {
	if err := b.Restore(); err != nil {
		return nil, err
	}
	var err error
	b.grad, err = b.Exec.Backward("", odinSeed(b, T), b.grad)
	return b.grad, err
}

// softmaxT writes softmax(f/T) into dst, in float64 then rounded, as a float32 network would
// compute it to within rounding.
func softmaxT(dst, f []float32, T float64) {
	m := float64(f[0])
	for _, v := range f[1:] {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range f {
		s += exp((float64(v) - m) / T)
	}
	for j, v := range f {
		dst[j] = float32(exp((float64(v)-m)/T) / s)
	}
}

// Perturb writes x̃ = x − ε·sign(g)/σ_c into dst for n images of three channels, with
// sign(0) = +1. x holds exactly the n images: their plane size is len(x)/(3n).
func Perturb(dst, x, grad []float32, eps float64, std [3]float32, n int) {
	PerturbImages(dst, x, grad, eps, std, n, nn.Shape{C: 3, H: 1, W: len(x) / (3 * n)})
}

// PerturbImages is Perturb for n images of shape in (at most three channels). ε is divided by
// the standard deviation σ_c of each channel's normalisation, as the seed does: the step is ε
// in the units of the [0, 1] pixels, whatever normalisation the network uses.
func PerturbImages(dst, x, grad []float32, eps float64, std [3]float32, n int, in nn.Shape) {
	plane := in.H * in.W
	for b := range n {
		for c := range min(in.C, 3) {
			step := float32(eps / float64(std[c]))
			off := (b*in.C + c) * plane
			for i := off; i < off+plane; i++ {
				if grad[i] >= 0 {
					dst[i] = x[i] - step
				} else {
					dst[i] = x[i] + step
				}
			}
		}
	}
}

// ScorePerturbed perturbs the batch's input along grad by ε and writes max softmax(f(x̃)/T).
func ScorePerturbed(b *Batch, grad []float32, T, eps float64, dst []float64) error {
	x := b.scratchInput(b.N * b.Model.Graph.Input().Size())
	PerturbImages(x, b.Input, grad, eps, b.Model.Std, b.N, b.Model.Graph.Input())
	logits, err := b.ForwardPerturbed(x)
	if err != nil {
		return err
	}
	k := b.Classes()
	for i := range b.N {
		dst[i] = MaxSoftmax(logits[i*k:(i+1)*k], T)
	}
	return nil
}
