package ood

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Mahalanobis is the detector of Lee, Lee, Lee & Shin, "A Simple Unified Framework for Detecting
// Out-of-Distribution Samples and Adversarial Attacks" (NeurIPS 2018), in its single-layer form
// on the penultimate features h (after global pooling). Fit estimates the class means μ_c and
// one covariance Σ shared by all classes (tied) from training images,
//
//	μ_c = mean of h over class c,   Σ = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ,
//
// using the labels of the training set (the network's predictions where it has none), and
// stores μ and the precision P = Σ⁻¹. The score is the largest class-conditional Gaussian
// log-density up to constants:
//
//	M(x) = max_c −(h − μ_c)ᵀ P (h − μ_c).
//
// With Magnitude ε > 0 the input is first pre-processed as in the paper's equation (4): with ĉ
// the closest class, the input moves against the gradient of its distance,
//
//	x̂ = x − ε·sign(∇ₓ (h(x) − μ_ĉ)ᵀ P (h(x) − μ_ĉ)) / σ_c,
//
// where σ_c is the normalisation's standard deviation of channel c (so ε is in [0,1] pixel units,
// as ODIN's ε) and sign(0) = +1; then S(x) = M(x̂), taking the maximum over all classes again.
// The gradient needs a backward pass from the features to the input and the score a second
// forward pass, so "mahalanobis_pre" costs about as much as ODIN, while "mahalanobis" (ε = 0)
// reuses the shared forward pass only.
//
// Numerics: most of DenseNet-BC-100's 342 penultimate units are almost never active (on the
// first 100 CIFAR-10 training images 233 have a standard deviation below 1e-4), which puts Σ's
// condition number near 1e19, where an eigendecomposition of Σ itself loses all accuracy in the
// small directions. P is therefore computed as S·(SΣS)⁺·S with S = diag(1/σ_j): the
// pseudo-inverse of the correlation matrix (condition number about 4e3 on 500 training images,
// against 7e18 for Σ), eigenvalues at most
// D·ε·λ_max treated as zero, scaled back. This equals Σ⁻¹ whenever Σ is regular; units with
// zero variance get zero weight.
//
// Not built: the paper's feature ensemble (a logistic regression over the scores of several
// layers, trained on validation data). The paper tunes ε per OOD set on validation data from
// {0, 0.0005, 0.001, 0.0014, 0.002, 0.005, 0.01}; it has no single default. We use ε = 0 for
// "mahalanobis" and ε = 0.0014 for "mahalanobis_pre" without tuning either. Computed in float64.
type Mahalanobis struct {
	Magnitude float64
	name      string

	k, d  int
	mean  []float64 // K×D
	prec  []float64 // D×D
	pmean []float64 // K×D: P·μ_c
}

// NewMahalanobis returns the detector without input pre-processing (ε = 0), "mahalanobis".
func NewMahalanobis() *Mahalanobis { return &Mahalanobis{name: "mahalanobis"} }

// NewMahalanobisPre returns the detector with input pre-processing, "mahalanobis_pre", ε = 0.0014.
func NewMahalanobisPre() *Mahalanobis {
	return &Mahalanobis{name: "mahalanobis_pre", Magnitude: 0.0014}
}

func (d *Mahalanobis) Name() string {
	if d.name == "" {
		return "mahalanobis"
	}
	return d.name
}

// Params exposes ε only for the pre-processing variant: the plain one is ε = 0 by definition.
func (d *Mahalanobis) Params() []Param {
	if d.Name() == "mahalanobis" {
		return nil
	}
	return []Param{{"magnitude", &d.Magnitude}}
}

// Fit estimates the class means and the tied precision.
func (d *Mahalanobis) Fit(ctx context.Context, t *Train, s *Stats) error {
	if err := t.check(); err != nil {
		return err
	}
	K, D := t.K, t.D
	mean := make([]float64, K*D)
	count := make([]int, K)
	labels := make([]int, t.N)
	for i := range t.N {
		c := t.Label(i)
		labels[i] = c
		count[c]++
		row := mean[c*D : (c+1)*D]
		for j, v := range t.Features[i*D : (i+1)*D] {
			row[j] += float64(v)
		}
	}
	for c := range K {
		if count[c] == 0 {
			return fmt.Errorf("mahalanobis: class %d has no training images among the %d of %s", c, t.N, t.Name)
		}
		for j := range D {
			mean[c*D+j] /= float64(count[c])
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	centred := make([]float64, t.N*D)
	for i := range t.N {
		mu := mean[labels[i]*D : (labels[i]+1)*D]
		for j, v := range t.Features[i*D : (i+1)*D] {
			centred[i*D+j] = float64(v) - mu[j]
		}
	}
	prec, err := scaledPinv(gram(centred, t.N, D), D)
	if err != nil {
		return fmt.Errorf("mahalanobis: covariance of %s: %v", t.Name, err)
	}
	s.Put64("mahalanobis.means", mean, K, D)
	s.Put64("mahalanobis.precision", prec, D, D)
	s.AddMethod(d.Name())
	return d.Use(s)
}

func (d *Mahalanobis) Use(s *Stats) error {
	mean, _, err := s.Get64("mahalanobis.means", s.Classes, s.Features)
	if err != nil {
		return err
	}
	prec, _, err := s.Get64("mahalanobis.precision", s.Features, s.Features)
	if err != nil {
		return err
	}
	d.k, d.d, d.mean, d.prec = s.Classes, s.Features, mean, prec
	d.pmean = make([]float64, d.k*d.d)
	for c := range d.k {
		matVec(d.pmean[c*d.d:(c+1)*d.d], prec, mean[c*d.d:(c+1)*d.d])
	}
	return nil
}

// matVec writes P·v into dst for the square row-major P.
func matVec(dst, p, v []float64) {
	n := len(v)
	for i := range n {
		var s float64
		for j, w := range p[i*n : (i+1)*n] {
			s += w * v[j]
		}
		dst[i] = s
	}
}

// scoreAll writes max_c −(h_i − μ_c)ᵀP(h_i − μ_c) of the n feature vectors h into dst, and
// their closest classes into arg if not nil. P·h_i is left in ph (n×D): all of them in one
// matrix product.
func (d *Mahalanobis) scoreAll(b *Batch, h []float32, n int, dst []float64, arg []int) []float64 {
	D := d.d
	hv, ph := b.f64("maha.h", n*D), b.f64("maha.ph", n*D)
	for i, v := range h[:n*D] {
		hv[i] = float64(v)
	}
	// P is symmetric, so the rows of H·P are the vectors P·h_i.
	mat.NewDense(n, D, ph).Mul(mat.NewDense(n, D, hv), mat.NewDense(D, D, d.prec))
	for i := range n {
		x, px := hv[i*D:(i+1)*D], ph[i*D:(i+1)*D]
		best, bc := math.Inf(-1), 0
		for c := range d.k {
			mu, pmu := d.mean[c*D:(c+1)*D], d.pmean[c*D:(c+1)*D]
			// (h − μ)ᵀ(Ph − Pμ)
			var q float64
			for j := range D {
				q += (x[j] - mu[j]) * (px[j] - pmu[j])
			}
			if -q > best {
				best, bc = -q, c
			}
		}
		dst[i] = best
		if arg != nil {
			arg[i] = bc
		}
	}
	return ph
}

func (d *Mahalanobis) Score(_ context.Context, b *Batch, dst []float64) error {
	if d.mean == nil {
		return errNotFitted(d.Name())
	}
	if d.Magnitude < 0 {
		return fmt.Errorf("%s: magnitude must not be negative, got %g", d.Name(), d.Magnitude)
	}
	h, dim, err := b.features(d.Name())
	if err != nil {
		return err
	}
	if dim != d.d || b.Classes() != d.k {
		return fmt.Errorf("%s: statistics have %d features and %d classes, the network %d and %d", d.Name(), d.d, d.k, dim, b.Classes())
	}
	if d.Magnitude == 0 {
		d.scoreAll(b, h, b.N, dst, nil)
		return nil
	}
	gin, err := b.inputGradient(d, func() (string, []float32, error) {
		// ∂/∂h of (h − μ_ĉ)ᵀP(h − μ_ĉ) is 2P(h − μ_ĉ); the factor 2 does not change the sign.
		cls := b.ints("maha.class", b.N)
		ph := d.scoreAll(b, b.Features, b.N, b.f64("maha.clean", b.N), cls)
		g := b.f32("maha.g", b.N*dim)
		for i := range b.N {
			pmu := d.pmean[cls[i]*dim : (cls[i]+1)*dim]
			for j := range dim {
				g[i*dim+j] = float32(ph[i*dim+j] - pmu[j])
			}
		}
		return "features", g, nil
	})
	if err != nil {
		return err
	}
	x := b.scratchInput(b.N * b.Model.Graph.Input().Size())
	PerturbImages(x, b.Input, gin, d.Magnitude, b.Model.Std, b.N, b.Model.Graph.Input())
	if _, err := b.ForwardPerturbed(x); err != nil {
		return err
	}
	hp, err := b.Exec.Tap("features", b.f32("maha.hp", 0))
	if err != nil {
		return err
	}
	b.s32["maha.hp"] = hp
	d.scoreAll(b, hp, b.N, dst, nil)
	return nil
}

// scaledPinv returns the precision S·(SΣS)⁺·S of the covariance Σ, with S = diag(1/σ_j) (0 where
// σ_j = 0). SΣS is the correlation matrix: scaling does not change the inverse of a regular Σ,
// but it makes the eigendecomposition accurate when the variances span many orders of
// magnitude, as they do for DenseNet's rarely active units.
func scaledPinv(cov []float64, d int) ([]float64, error) {
	sc := make([]float64, d)
	for j := range d {
		if v := cov[j*d+j]; v > 0 {
			sc[j] = 1 / math.Sqrt(v)
		}
	}
	corr := make([]float64, d*d)
	for i := range d {
		for j := range d {
			corr[i*d+j] = cov[i*d+j] * sc[i] * sc[j]
		}
	}
	p, err := pinvSym(corr, d)
	if err != nil {
		return nil, err
	}
	for i := range d {
		for j := range d {
			p[i*d+j] *= sc[i] * sc[j]
		}
	}
	return p, nil
}
