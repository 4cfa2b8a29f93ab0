package ood

import "testing"

func TestPerturbByHand(t *testing.T) {
	// One image; channel c moves by ε/σ_c against the gradient's sign, with sign(0) = +1.
	const plane = 32 * 32
	x := make([]float32, 3*plane)
	g := make([]float32, 3*plane)
	g[0], g[1], g[2] = 1, -1, 0
	g[plane], g[2*plane] = -2, 3
	dst := make([]float32, 3*plane)
	std := [3]float32{0.5, 0.25, 2}
	Perturb(dst, x, g, 0.01, std, 1)
	want := map[int]float32{0: -0.02, 1: 0.02, 2: -0.02, plane: 0.04, 2 * plane: -0.005}
	for i, w := range want {
		if dst[i] != w {
			t.Errorf("x̃[%d] = %v, want %v", i, dst[i], w)
		}
	}
	d := NewODIN()
	if p := d.Params(); len(p) != 2 || *p[0].Value != 1000 || *p[1].Value != 0.0014 {
		t.Errorf("ODIN defaults %v", p)
	}
}
