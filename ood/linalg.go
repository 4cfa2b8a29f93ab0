package ood

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// gram returns XᵀX/n for the n×d row-major matrix x, as a full d×d row-major matrix.
func gram(x []float64, n, d int) []float64 {
	var s mat.SymDense
	s.SymOuterK(1/float64(n), mat.NewDense(n, d, x).T())
	out := make([]float64, d*d)
	for i := range d {
		for j := i; j < d; j++ {
			v := s.At(i, j)
			out[i*d+j], out[j*d+i] = v, v
		}
	}
	return out
}

// eigSym returns the eigenvalues of the symmetric d×d row-major matrix a in descending order, and
// the matching unit eigenvectors as the columns of a d×d row-major matrix.
func eigSym(a []float64, d int) (values, vectors []float64, err error) {
	var e mat.EigenSym
	if !e.Factorize(mat.NewSymDense(d, append([]float64(nil), a...)), true) {
		return nil, nil, errors.New("symmetric eigendecomposition did not converge")
	}
	asc := e.Values(nil)
	var q mat.Dense
	e.VectorsTo(&q)
	values = make([]float64, d)
	vectors = make([]float64, d*d)
	for j := range d {
		src := d - 1 - j
		values[j] = asc[src]
		for i := range d {
			vectors[i*d+j] = q.At(i, src)
		}
	}
	return values, vectors, nil
}

// pinvSym returns the Moore–Penrose pseudo-inverse of the symmetric d×d matrix a through its
// eigendecomposition, treating eigenvalues of magnitude at most d·ε·max|λ| (ε the float64
// machine epsilon) as zero — SciPy's pinvh default, and NumPy's pinv with rcond = d·ε.
func pinvSym(a []float64, d int) ([]float64, error) {
	vals, vecs, err := eigSym(a, d)
	if err != nil {
		return nil, err
	}
	var big float64
	for _, v := range vals {
		big = max(big, math.Abs(v))
	}
	cut := float64(d) * 0x1p-52 * big
	inv := make([]float64, d)
	for j, v := range vals {
		if math.Abs(v) > cut {
			inv[j] = 1 / v
		}
	}
	p := make([]float64, d*d)
	for i := range d {
		vi := vecs[i*d : (i+1)*d]
		for k := i; k < d; k++ {
			vk := vecs[k*d : (k+1)*d]
			var s float64
			for j, w := range inv {
				if w != 0 {
					s += vi[j] * w * vk[j]
				}
			}
			p[i*d+k], p[k*d+i] = s, s
		}
	}
	return p, nil
}

// minNormSolve returns the minimum-norm solution u of W·u = y for the K×D matrix w of full row
// rank K ≤ D: u = Wᵀ(WWᵀ)⁻¹y, which is pinv(W)·y.
func minNormSolve(w []float32, y []float64, k, d int) ([]float64, error) {
	g := mat.NewSymDense(k, nil)
	for i := range k {
		for j := i; j < k; j++ {
			var s float64
			for c := range d {
				s += float64(w[i*d+c]) * float64(w[j*d+c])
			}
			g.SetSym(i, j, s)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(g) {
		return nil, errors.New("final layer's weight rows are linearly dependent")
	}
	var z mat.VecDense
	if err := ch.SolveVecTo(&z, mat.NewVecDense(k, append([]float64(nil), y...))); err != nil {
		return nil, err
	}
	u := make([]float64, d)
	for i := range k {
		zi := z.AtVec(i)
		for c := range d {
			u[c] += float64(w[i*d+c]) * zi
		}
	}
	return u, nil
}

// rightSingular returns the right singular vectors of the n×d row-major matrix x as the columns
// of a d×d row-major matrix, in order of decreasing singular value (the null space, if n < d,
// last). They are the eigenvectors of XᵀX, computed without forming XᵀX, whose eigenvalues would
// carry an absolute error of ε·λ_max and so lose the small ones.
func rightSingular(x []float64, n, d int) ([]float64, error) {
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, d, x), mat.SVDFullV) {
		return nil, errors.New("singular value decomposition did not converge")
	}
	var v mat.Dense
	svd.VTo(&v)
	out := make([]float64, d*d)
	for i := range d {
		for j := range d {
			out[i*d+j] = v.At(i, j)
		}
	}
	return out, nil
}
