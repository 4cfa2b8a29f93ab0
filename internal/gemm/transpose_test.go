package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestTransposeInto checks that products with a transposed Packed are those of packing the
// transposed matrix directly, bit for bit, for shapes that leave partial panels and K blocks.
func TestTransposeInto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var scratch *Packed
	for _, s := range [][2]int{{1, 1}, {6, 6}, {7, 13}, {13, 7}, {40, 500}, {500, 40}, {385, 391}} {
		m, k := s[0], s[1]
		a := make([]float32, m*k)
		for i := range a {
			a[i] = r.Float32()*2 - 1
		}
		at := make([]float32, k*m)
		for i := range m {
			for j := range k {
				at[j*m+i] = a[i*k+j]
			}
		}
		want := Pack(k, m, at, m)
		scratch = Pack(m, k, a, k).TransposeInto(scratch)
		if scratch.M != k || scratch.K != m || scratch.kc != want.kc {
			t.Fatalf("%d×%d: transposed is %d×%d (kc %d), want %d×%d (kc %d)", m, k, scratch.M, scratch.K, scratch.kc, k, m, want.kc)
		}
		n := 37
		b := make([]float32, m*n)
		for i := range b {
			b[i] = r.Float32()*2 - 1
		}
		got, exp := make([]float32, k*n), make([]float32, k*n)
		scratch.Mul(got, n, b, n, n, nil, false, nil)
		want.Mul(exp, n, b, n, n, nil, false, nil)
		for i := range got {
			if got[i] != exp[i] {
				t.Fatalf("%d×%d: element %d is %v, want %v", m, k, i, got[i], exp[i])
			}
		}
	}
}
