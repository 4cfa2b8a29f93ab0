package ood

import (
	"context"
	"fmt"
	"math"

	"github.com/odin-ood/odin/internal/gemm"
)

// KNN is the detector of Sun, Ming, Zhu & Li, "Out-of-Distribution Detection with Deep Nearest
// Neighbors" (ICML 2022). Penultimate features are normalised to unit L2 norm, z = h/‖h‖; the
// score is minus the distance to the k-th nearest of the normalised training features z_1 … z_N:
//
//	S(x) = −‖z(x) − z_(k)‖,
//
// where z_(k) is the k-th closest training feature. The paper's default is k = 50 (CIFAR-10,
// with all 50,000 training images).
//
// The search is exact. Fit stores the normalised training features (float32) as the bank; per
// micro-batch one blocked matrix product (internal/gemm) gives all bank·query dot products,
// ‖z − z_i‖² = ‖z‖² + ‖z_i‖² − 2 z·z_i is formed in float64 from them, and a bounded heap per
// image keeps the k smallest. Dot products are float32 sums, so distances carry float32 rounding
// (about 1e-7 relative).
type KNN struct {
	K float64

	bank  *gemm.Packed // N×D normalised training features
	norms []float64    // ‖z_i‖² of the bank rows, as stored
}

// NewKNN returns KNN with the paper's default k = 50.
func NewKNN() *KNN { return &KNN{K: 50} }

func (d *KNN) Name() string { return "knn" }

func (d *KNN) Params() []Param { return []Param{{"k", &d.K}} }

// Fit normalises and records the training features.
func (d *KNN) Fit(_ context.Context, t *Train, s *Stats) error {
	if err := t.check(); err != nil {
		return err
	}
	z := make([]float32, len(t.Features))
	for i := range t.N {
		normalize(z[i*t.D:(i+1)*t.D], t.Features[i*t.D:(i+1)*t.D])
	}
	s.Put32("knn.bank", z, t.N, t.D)
	s.AddMethod(d.Name())
	return d.Use(s)
}

// normalize writes h/‖h‖ into z, with the norm in float64; a zero h gives a zero z.
func normalize(z, h []float32) float64 {
	var ss float64
	for _, v := range h {
		ss += float64(v) * float64(v)
	}
	var inv float64
	if ss > 0 {
		inv = 1 / math.Sqrt(ss)
	}
	var zz float64
	for j, v := range h {
		z[j] = float32(float64(v) * inv)
		zz += float64(z[j]) * float64(z[j])
	}
	return zz
}

func (d *KNN) Use(s *Stats) error {
	z, shape, err := s.Get32("knn.bank", -1, s.Features)
	if err != nil {
		return err
	}
	n, dim := shape[0], shape[1]
	if n < 1 {
		return fmt.Errorf("stats %s: knn.bank is empty", s.name())
	}
	d.bank = gemm.Pack(n, dim, z, dim)
	d.norms = make([]float64, n)
	for i := range n {
		var ss float64
		for _, v := range z[i*dim : (i+1)*dim] {
			ss += float64(v) * float64(v)
		}
		d.norms[i] = ss
	}
	return nil
}

func (d *KNN) Score(_ context.Context, b *Batch, dst []float64) error {
	if d.bank == nil {
		return errNotFitted("knn")
	}
	m := d.bank.M
	k := int(d.K)
	if float64(k) != d.K || k < 1 || k > m {
		return fmt.Errorf("knn: k must be a whole number from 1 to the %d training images, got %g", m, d.K)
	}
	h, dim, err := b.features("knn")
	if err != nil {
		return err
	}
	if dim != d.bank.K {
		return fmt.Errorf("knn: statistics have %d features, the network %d", d.bank.K, dim)
	}
	n := b.N
	// Queries as the columns of a D×n matrix.
	z := b.f32("knn.z", dim)
	q := b.f32("knn.q", dim*n)
	qn := b.f64("knn.qn", n)
	for i := range n {
		qn[i] = normalize(z, h[i*dim:(i+1)*dim])
		for j, v := range z {
			q[j*n+i] = v
		}
	}
	dots := b.f32("knn.dots", m*n)
	d.bank.Mul(dots, n, q, n, n, nil, false, b.workspace())
	// heaps[i] holds image i's k smallest ‖z_j‖² − 2 z·z_j as a max-heap.
	heaps := b.f64("knn.heaps", n*k)
	for j := range m {
		row := dots[j*n : (j+1)*n]
		for i, dot := range row {
			v := d.norms[j] - 2*float64(dot)
			hp := heaps[i*k : (i+1)*k]
			switch {
			case j < k:
				heapPush(hp[:j+1], v)
			case v < hp[0]:
				hp[0] = v
				siftDown(hp)
			}
		}
	}
	for i := range n {
		dst[i] = -math.Sqrt(max(0, qn[i]+heaps[i*k]))
	}
	return nil
}

// heapPush adds h[len(h)-1] to the max-heap h[:len(h)-1]; v is its value.
func heapPush(h []float64, v float64) {
	i := len(h) - 1
	h[i] = v
	for i > 0 {
		p := (i - 1) / 2
		if h[p] >= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

// siftDown restores the max-heap property of h after h[0] decreased.
func siftDown(h []float64) {
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h[r] > h[l] {
			c = r
		}
		if h[i] >= h[c] {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
