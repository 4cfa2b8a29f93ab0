package dataset

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
)

func image32(t *testing.T, d Dataset, i int) []float32 {
	t.Helper()
	x := make([]float32, Pixels)
	l, err := d.Image(i, x)
	if err != nil {
		t.Fatal(err)
	}
	if l != -1 {
		t.Fatalf("label %d, want -1", l)
	}
	return x
}

func TestNoiseReproducible(t *testing.T) {
	for _, mk := range []func(int, uint64) *Noise{Uniform, Gaussian} {
		a, b := mk(100, 7), mk(10, 7)
		// Image i depends on (seed, i) only: not on n, on the instance, or on what came before.
		want := image32(t, a, 5)
		if !slices.Equal(image32(t, b, 5), want) || !slices.Equal(image32(t, a, 5), want) {
			t.Errorf("%s: image 5 not reproducible", a.Name())
		}
		if slices.Equal(image32(t, a, 6), want) {
			t.Errorf("%s: images 5 and 6 equal", a.Name())
		}
		if slices.Equal(image32(t, mk(100, 8), 5), want) {
			t.Errorf("%s: seeds 7 and 8 give the same image 5", a.Name())
		}
		// Concurrent use gives the same images.
		var wg sync.WaitGroup
		got := make([][]float32, 8)
		for g := range got {
			wg.Go(func() {
				x := make([]float32, Pixels)
				a.Image(5, x)
				got[g] = x
			})
		}
		wg.Wait()
		for _, x := range got {
			if !slices.Equal(x, want) {
				t.Errorf("%s: concurrent image 5 differs", a.Name())
			}
		}
		if _, err := a.Image(100, want); err == nil {
			t.Errorf("%s: index 100 of 100 accepted", a.Name())
		}
		if a.Len() != 100 || a.Classes() != nil || mk(-3, 1).Len() != 0 {
			t.Errorf("%s: Len %d", a.Name(), a.Len())
		}
	}
	// Uniform and Gaussian with one seed are unrelated streams.
	u, g := image32(t, Uniform(1, 1), 0), image32(t, Gaussian(1, 1), 0)
	same := 0
	for k := range u {
		if u[k] == g[k] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("%d equal values in Uniform and Gaussian images", same)
	}
}

func TestUniformDistribution(t *testing.T) {
	d := Uniform(20, 3)
	sum, n := 0.0, 0
	lo, hi := float32(1), float32(0)
	for i := range d.Len() {
		for _, v := range image32(t, d, i) {
			if v < 0 || v >= 1 {
				t.Fatalf("value %v outside [0, 1)", v)
			}
			lo, hi = min(lo, v), max(hi, v)
			sum += float64(v)
			n++
		}
	}
	// Mean of U[0,1) over 61,440 values: standard error 0.0012.
	if mean := sum / float64(n); math.Abs(mean-0.5) > 0.005 || lo > 0.001 || hi < 0.999 {
		t.Errorf("mean %v, range [%v, %v]", mean, lo, hi)
	}
}

func TestGaussianDistribution(t *testing.T) {
	const images = 20
	raw := make([]float64, Pixels)
	sum, sq, n := 0.0, 0.0, 0
	for i := range images {
		gaussian(11, i, raw)
		for _, v := range raw {
			sum += v
			sq += (v - 0.5) * (v - 0.5)
			n++
		}
	}
	// Before clamping N(0.5, 1): standard error of the mean 0.004.
	mean, sd := sum/float64(n), math.Sqrt(sq/float64(n))
	if math.Abs(mean-0.5) > 0.02 || math.Abs(sd-1) > 0.02 {
		t.Errorf("mean %v sd %v, want 0.5 and 1", mean, sd)
	}
	d := Gaussian(images, 11)
	zeros, ones := 0, 0
	for i := range images {
		x := image32(t, d, i)
		gaussian(11, i, raw)
		for k, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("value %v outside [0, 1]", v)
			}
			if want := float32(min(max(raw[k], 0), 1)); v != want {
				t.Fatalf("image %d value %d: %v, want clamped %v", i, k, v, want)
			}
			if v == 0 {
				zeros++
			}
			if v == 1 {
				ones++
			}
		}
	}
	// P(N(0.5,1) < 0) = P(> 1) = Φ(−0.5) = 0.3085.
	for _, c := range []int{zeros, ones} {
		if f := float64(c) / float64(n); math.Abs(f-0.3085) > 0.01 {
			t.Errorf("clamped fraction %v, want 0.3085", f)
		}
	}
}

func ExampleUniform() {
	d := Uniform(3, 42)
	x := make([]float32, Pixels)
	label, _ := d.Image(2, x)
	again := make([]float32, Pixels)
	Uniform(1000, 42).Image(2, again)
	fmt.Println(d.Name(), d.Len(), label, x[0] == again[0] && x[Pixels-1] == again[Pixels-1])
	// Output: Uniform 3 -1 true
}
