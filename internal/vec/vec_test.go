package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAgainstGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 100, 1027} {
		src := make([]float32, n)
		g := make([]float32, n)
		for i := range src {
			src[i] = float32(r.NormFloat64())
			g[i] = float32(r.NormFloat64())
		}
		if n > 3 {
			src[0], src[1], src[2] = float32(math.NaN()), float32(math.Copysign(0, -1)), float32(math.Inf(-1))
		}
		s, t0 := float32(0.7), float32(-0.1)
		for _, relu := range []bool{false, true} {
			got := make([]float32, n)
			want := make([]float32, n)
			ScaleShift(got, src, s, t0, relu)
			scaleShiftGo(want, src, s, t0, relu)
			same(t, "ScaleShift", got, want)
			for i, v := range src {
				y := v*s + t0
				if relu && !(y > 0) {
					y = 0
				}
				if math.Float32bits(y) != math.Float32bits(got[i]) {
					t.Fatalf("ScaleShift n=%d relu=%v [%d] = %v, want %v", n, relu, i, got[i], y)
				}
			}
			d1 := make([]float32, n)
			d2 := make([]float32, n)
			for i := range d1 {
				d1[i] = float32(r.NormFloat64())
				d2[i] = d1[i]
			}
			BNGrad(d1, g, src, s, t0, relu)
			bnGradGo(d2, g, src, s, t0, relu)
			same(t, "BNGrad", d1, d2)

			// In place: as BNGrad into zeros, up to the sign of a zero.
			zero := make([]float32, n)
			BNGrad(zero, g, src, s, t0, relu)
			in := append([]float32(nil), g...)
			BNGradInPlace(in, src, s, t0, relu)
			for i := range in {
				if in[i] != zero[i] && !(in[i] != in[i] && zero[i] != zero[i]) {
					t.Fatalf("BNGradInPlace n=%d relu=%v [%d] = %v, want %v", n, relu, i, in[i], zero[i])
				}
			}
			ref := append([]float32(nil), g...)
			bnGradInPlaceGo(ref, src, s, t0, relu)
			same(t, "BNGradInPlace", in, ref)
		}
	}
}

func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s n=%d [%d]: %v, Go loop gives %v", what, len(got), i, got[i], want[i])
		}
	}
}

func TestAdd(t *testing.T) {
	d := []float32{1, 2, 3}
	Add(d, []float32{1, 1})
	if d[0] != 2 || d[1] != 3 || d[2] != 3 {
		t.Fatal(d)
	}
}
