package ood

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// ViM is the detector of Wang, Li, Feng & Zhang, "ViM: Out-Of-Distribution with Virtual-logit
// Matching" (CVPR 2022). With the final layer f = W·h + b, the origin is moved to
// u = −W⁺b (W⁺ the pseudo-inverse), where the logits are zero. The principal space is spanned by
// the eigenvectors of the largest Dim eigenvalues of the training features' second-moment matrix
// about u, (1/N) Σ_i (h_i − u)(h_i − u)ᵀ; R is the matrix of the remaining eigenvectors. The
// residual's norm, scaled to the logits, is a virtual logit:
//
//	v(x) = α·‖Rᵀ(h − u)‖,   α = Σ_i max_j f_j(x_i) / Σ_i ‖Rᵀ(h_i − u)‖ over the training images.
//
// The paper's OOD score is the softmax probability of the virtual logit among the real ones,
// p = e^v/(e^v + Σ_j e^{f_j}). We return the in-distribution score
//
//	S(x) = log Σ_j exp f_j(x) − v(x),
//
// which is −logit(p), a decreasing function of p: it ranks images exactly as −p does without
// saturating in floating point. Fit records u, all eigenvectors (sorted by decreasing
// eigenvalue) and α for every Dim, so Dim can be searched without refitting. The eigenvectors
// are computed as the right singular vectors of the matrix of centred features: on DenseNet's
// features, whose second-moment eigenvalues fall from 30 to below 1e-13, an eigendecomposition
// of the matrix itself left scores 1e-4 apart from NumPy's at Dim = 171 and 30% apart at 300.
// The paper sets Dim = 1000 for features of more than 1500 dimensions and 512 otherwise, which
// is impossible for DenseNet-BC-100's 342; we default to half the feature dimension (171),
// untuned. Computed in float64.
type ViM struct {
	Dim float64

	d     int
	u     []float64 // D
	vecs  []float64 // D×D, column j the eigenvector of the j-th largest eigenvalue
	alpha []float64 // D+1: α for each Dim (α[D] unused)
}

// NewViM returns ViM whose Dim is set by Use or Fit to half the feature dimension.
func NewViM() *ViM { return &ViM{} }

func (d *ViM) Name() string { return "vim" }

func (d *ViM) Params() []Param { return []Param{{"dim", &d.Dim}} }

// Fit computes the origin, the eigenvectors and α.
func (d *ViM) Fit(ctx context.Context, t *Train, s *Stats) error {
	if err := t.check(); err != nil {
		return err
	}
	D, K, N := t.D, t.K, t.N
	if K > D {
		return fmt.Errorf("vim: %d classes exceed the %d features", K, D)
	}
	nb := make([]float64, K)
	for j, v := range t.Bias {
		nb[j] = -float64(v)
	}
	u, err := minNormSolve(t.Weight, nb, K, D)
	if err != nil {
		return fmt.Errorf("vim: %v", err)
	}
	centred := make([]float64, N*D)
	for i := range N {
		for j, v := range t.Features[i*D : (i+1)*D] {
			centred[i*D+j] = float64(v) - u[j]
		}
	}
	// The eigenvectors of (1/N)·XᵀX are X's right singular vectors: see rightSingular for why
	// they are computed so.
	vecs, err := rightSingular(slices.Clone(centred), N, D)
	if err != nil {
		return fmt.Errorf("vim: %v", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// sum[m] accumulates, over images, ‖residual‖ when the principal space has dimension m:
	// the norm of the projections on eigenvectors m … D−1.
	sum := make([]float64, D+1)
	p := make([]float64, D)
	tail := make([]float64, D+1)
	var maxLogits float64
	for i := range N {
		x := centred[i*D : (i+1)*D]
		clear(p)
		for r, xr := range x {
			row := vecs[r*D : (r+1)*D]
			for j, v := range row {
				p[j] += xr * v
			}
		}
		tail[D] = 0
		for j := D - 1; j >= 0; j-- {
			tail[j] = tail[j+1] + p[j]*p[j]
		}
		for m := range D {
			sum[m] += math.Sqrt(tail[m])
		}
		f := t.Logits[i*K : (i+1)*K]
		maxLogits += float64(f[Argmax(f)])
	}
	alpha := make([]float64, D+1)
	for m := range D {
		if sum[m] > 0 {
			alpha[m] = maxLogits / sum[m]
		}
	}
	s.Put64("vim.origin", u, D)
	s.Put64("vim.eigenvectors", vecs, D, D)
	s.Put64("vim.alpha", alpha, D+1)
	s.AddMethod(d.Name())
	return d.Use(s)
}

func (d *ViM) Use(s *Stats) error {
	D := s.Features
	u, _, err := s.Get64("vim.origin", D)
	if err != nil {
		return err
	}
	vecs, _, err := s.Get64("vim.eigenvectors", D, D)
	if err != nil {
		return err
	}
	alpha, _, err := s.Get64("vim.alpha", D+1)
	if err != nil {
		return err
	}
	d.d, d.u, d.vecs, d.alpha = D, u, vecs, alpha
	if d.Dim == 0 {
		d.Dim = float64(D / 2)
	}
	return nil
}

func (d *ViM) Score(_ context.Context, b *Batch, dst []float64) error {
	if d.u == nil {
		return errNotFitted("vim")
	}
	m := int(d.Dim)
	if float64(m) != d.Dim || m < 1 || m >= d.d {
		return fmt.Errorf("vim: dim must be a whole number from 1 to %d, got %g", d.d-1, d.Dim)
	}
	h, dim, err := b.features("vim")
	if err != nil {
		return err
	}
	if dim != d.d {
		return fmt.Errorf("vim: statistics have %d features, the network %d", d.d, dim)
	}
	k := b.Classes()
	x := b.f64("vim.x", dim)
	p := b.f64("vim.p", dim-m)
	for i := range b.N {
		for j, v := range h[i*dim : (i+1)*dim] {
			x[j] = float64(v) - d.u[j]
		}
		clear(p)
		for r, xr := range x {
			for j, v := range d.vecs[r*dim+m : (r+1)*dim] {
				p[j] += xr * v
			}
		}
		var ss float64
		for _, v := range p {
			ss += v * v
		}
		dst[i] = logSumExp(b.Logits[i*k:(i+1)*k], 1) - d.alpha[m]*math.Sqrt(ss)
	}
	return nil
}
