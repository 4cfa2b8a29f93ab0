package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// normalScores draws n in-distribution scores from N(d, 1) and n OOD scores from N(0, 1).
func normalScores(rng *rand.Rand, n int, d float64) (in, out []float64) {
	in, out = make([]float64, n), make([]float64, n)
	for i := range n {
		in[i] = d + rng.NormFloat64()
		out[i] = rng.NormFloat64()
	}
	return in, out
}

// TestBootstrapCoverage checks the intervals against a known answer: for scores from N(d, 1)
// against N(0, 1) the AUROC is Φ(d/√2), and a 95% interval should cover it in about 95% of
// independent samples.
func TestBootstrapCoverage(t *testing.T) {
	const reps, n, d = 200, 200, 1.0
	truth := 0.5 * math.Erfc(-d/math.Sqrt2/math.Sqrt2) // Φ(d/√2)
	rng := rand.New(rand.NewPCG(1, 2))
	covered := 0
	for rep := range reps {
		in, out := normalScores(rng, n, d)
		iv, err := Bootstrap(context.Background(), [][]float64{in}, [][]float64{out},
			BootstrapOptions{Resamples: 500, Seed: uint64(rep), Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		a := iv.Methods[0].AUROC
		if a.Low <= truth && truth <= a.High {
			covered++
		}
	}
	rate := float64(covered) / reps
	t.Logf("true AUROC %.4f covered by %d of %d 95%% intervals", truth, covered, reps)
	if rate < 0.88 || rate > 0.99 {
		t.Errorf("coverage %.3f, want about 0.95 (0.88 to 0.99)", rate)
	}
}

// TestBootstrapPointIsExact checks that Value is Compute's result, bit for bit, for both
// positive classes and with ties, and that the interval contains it.
func TestBootstrapPointIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in, out := normalScores(rng, 500, 1.5)
	for i := range in {
		in[i] = math.Round(in[i]*10) / 10 // many ties, within and across the classes
		out[i] = math.Round(out[i]*10) / 10
	}
	in[0], out[0] = 0, math.Copysign(0, -1)
	for _, pos := range []Class{In, Out} {
		want, err := Compute(in, out, Options{Positive: pos})
		if err != nil {
			t.Fatal(err)
		}
		iv, err := Bootstrap(context.Background(), [][]float64{in}, [][]float64{out}, BootstrapOptions{Resamples: 200, Positive: pos})
		if err != nil {
			t.Fatal(err)
		}
		r := iv.Methods[0]
		if r.Point() != want {
			t.Errorf("positive %v: point %+v, Compute %+v", pos, r.Point(), want)
		}
		for k, f := range r.fields() {
			if !(f.Low <= f.Value && f.Value <= f.High) {
				t.Errorf("positive %v, metric %d: interval [%g, %g] misses the value %g", pos, k, f.Low, f.High, f.Value)
			}
		}
	}
}

// TestBootstrapSweepMatchesCompute checks the weighted sweep on one resample against Compute of
// the resampled scores written out.
func TestBootstrapSweepMatchesCompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in, out := normalScores(rng, 300, 0.7)
	for i := range in {
		in[i] = math.Round(in[i] * 4)
		out[i] = math.Round(out[i] * 4)
	}
	r := rankScores(in, out, false)
	mIn, mOut := make([]int32, len(in)), make([]int32, len(out))
	draw(rng, mIn)
	draw(rng, mOut)
	got := r.sweep(mIn, mOut, make([]int32, r.groups), make([]int32, r.groups))
	var rin, rout []float64
	for i, m := range mIn {
		for range m {
			rin = append(rin, in[i])
		}
	}
	for j, m := range mOut {
		for range m {
			rout = append(rout, out[j])
		}
	}
	want, err := Compute(rin, rout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("sweep %+v, Compute of the resample %+v", got, want)
	}
}

func TestBootstrapPairedSelfIsZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in, out := normalScores(rng, 400, 1)
	iv, err := Bootstrap(context.Background(), [][]float64{in, in}, [][]float64{out, out}, BootstrapOptions{Resamples: 300})
	if err != nil {
		t.Fatal(err)
	}
	d, err := iv.Diff(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d != (ResultCI{}) {
		t.Errorf("method against itself: %+v, want all zero", d)
	}
}

// TestBootstrapPairedDetectsShift checks that the paired interval separates a method from the
// same method with added noise, while the unpaired intervals of the two overlap.
func TestBootstrapPairedDetectsShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	in, out := normalScores(rng, 2000, 1.5)
	noisy := func(v []float64) []float64 {
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = x + 0.3*rng.NormFloat64()
		}
		return w
	}
	iv, err := Bootstrap(context.Background(), [][]float64{in, noisy(in)}, [][]float64{out, noisy(out)}, BootstrapOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, b := iv.Methods[0].AUROC, iv.Methods[1].AUROC
	if !(a.Low < b.High && b.Low < a.High) {
		t.Fatalf("unpaired AUROC intervals %+v and %+v do not overlap; the test wants a small shift", a, b)
	}
	d, _ := iv.Diff(0, 1)
	if !(d.AUROC.Low > 0) {
		t.Errorf("paired AUROC difference %+v should exclude 0: noise lowers the AUROC", d.AUROC)
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	in, out := normalScores(rng, 700, 1)
	in2, out2 := normalScores(rng, 700, 2)
	run := func(seed uint64, workers int) *Intervals {
		iv, err := Bootstrap(context.Background(), [][]float64{in, in2}, [][]float64{out, out2},
			BootstrapOptions{Resamples: 250, Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return iv
	}
	a, b, c := run(42, 1), run(42, 4), run(43, 2)
	for m := range a.Methods {
		if a.Methods[m] != b.Methods[m] {
			t.Errorf("method %d: seed 42 gives %+v with 1 worker, %+v with 4", m, a.Methods[m], b.Methods[m])
		}
	}
	if a.Methods[0] == c.Methods[0] {
		t.Errorf("seeds 42 and 43 gave the same intervals %+v", a.Methods[0])
	}
}

func TestBootstrapErrors(t *testing.T) {
	ctx := context.Background()
	one := [][]float64{{1, 2, 3}}
	for _, c := range []struct {
		in, out [][]float64
		opt     BootstrapOptions
		want    string
	}{
		{nil, nil, BootstrapOptions{}, "bootstrap of 0"},
		{one, [][]float64{{}}, BootstrapOptions{}, "no out-of-distribution"},
		{[][]float64{{1, 2}, {1}}, [][]float64{{1}, {2}}, BootstrapOptions{}, "same images"},
		{one, [][]float64{{math.NaN()}}, BootstrapOptions{}, "NaN"},
		{one, one, BootstrapOptions{Level: 1.5}, "confidence level"},
		{one, one, BootstrapOptions{Resamples: 1}, "resamples"},
	} {
		_, err := Bootstrap(ctx, c.in, c.out, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v / %v / %+v: error %v, want one containing %q", c.in, c.out, c.opt, err, c.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Bootstrap(cancelled, one, one, BootstrapOptions{}); err == nil {
		t.Error("a cancelled context gave no error")
	}
}

func TestIntervalFormat(t *testing.T) {
	p := ResultCI{FPR95: Interval{0.121, 0.114, 0.129}}.Percent()
	if got := p.FPR95.String(); got != "12.1 [11.4, 12.9]" {
		t.Errorf("String: %q", got)
	}
	b, err := p.FPR95.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, `"value":12.1`) || !strings.Contains(got, `"ci_low":11.4`) || !strings.Contains(got, `"ci_high":12.9`) {
		t.Errorf("JSON %s", got)
	}
}

func TestWriteRowsCI(t *testing.T) {
	var b strings.Builder
	r := ResultCI{FPR95: Interval{0.121, 0.114, 0.129}, DetErr: Interval{0.076, 0.07, 0.08}, AUROC: Interval{0.977, 0.975, 0.979},
		AUPRIn: Interval{0.977, 0.975, 0.979}, AUPROut: Interval{0.976, 0.974, 0.978}}
	if err := WriteRowsCI(&b, [][2]string{{"Intervals", "95%"}}, []string{"msp", "odin"}, []ResultCI{r, r}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[4], "odin") || !strings.Contains(lines[4], "12.1 [11.4, 12.9]") || !strings.HasSuffix(lines[0], "95%") {
		t.Errorf("table:\n%s", b.String())
	}
	for _, l := range lines[2:] {
		if len([]rune(l)) != len([]rune(lines[2])) || len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("ragged table:\n%s", b.String())
			break
		}
	}
	if err := WriteRowsCI(&b, nil, []string{"a"}, nil); err == nil {
		t.Error("no results: no error")
	}
}
