package metrics

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// DefaultResamples is the number of bootstrap resamples when BootstrapOptions.Resamples is 0.
const DefaultResamples = 1000

// DefaultLevel is the confidence level when BootstrapOptions.Level is 0.
const DefaultLevel = 0.95

// Interval is a point estimate with a confidence interval [Low, High], as fractions.
type Interval struct {
	Value, Low, High float64
}

// ResultCI holds the five metrics with their confidence intervals.
type ResultCI struct {
	FPR95, DetErr, AUROC, AUPRIn, AUPROut Interval
}

// Point returns the point estimates: the exact metrics of the scores.
func (r ResultCI) Point() Result {
	return Result{r.FPR95.Value, r.DetErr.Value, r.AUROC.Value, r.AUPRIn.Value, r.AUPROut.Value}
}

func (r *ResultCI) fields() [5]*Interval {
	return [5]*Interval{&r.FPR95, &r.DetErr, &r.AUROC, &r.AUPRIn, &r.AUPROut}
}

// IntervalPercent is an Interval in percent. It marshals to {"value", "ci_low", "ci_high"}, a
// NaN becoming null.
type IntervalPercent struct {
	Value, Low, High float64
}

// MarshalJSON writes {"value": …, "ci_low": …, "ci_high": …}.
func (p IntervalPercent) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Value *float64 `json:"value"`
		Low   *float64 `json:"ci_low"`
		High  *float64 `json:"ci_high"`
	}{num(p.Value), num(p.Low), num(p.High)})
}

// String formats the interval to one decimal as "12.1 [11.4, 12.9]".
func (p IntervalPercent) String() string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%s [%s, %s]", f(p.Value), f(p.Low), f(p.High))
}

// PercentCI is a ResultCI in percent; it marshals to one object with the keys of Percent, each
// holding an IntervalPercent.
type PercentCI struct {
	FPR95   IntervalPercent `json:"fpr95"`
	DetErr  IntervalPercent `json:"det_err"`
	AUROC   IntervalPercent `json:"auroc"`
	AUPRIn  IntervalPercent `json:"aupr_in"`
	AUPROut IntervalPercent `json:"aupr_out"`
}

// Percent returns the intervals multiplied by 100.
func (r ResultCI) Percent() PercentCI {
	p := func(iv Interval) IntervalPercent { return IntervalPercent{100 * iv.Value, 100 * iv.Low, 100 * iv.High} }
	return PercentCI{p(r.FPR95), p(r.DetErr), p(r.AUROC), p(r.AUPRIn), p(r.AUPROut)}
}

func (p PercentCI) values() [5]IntervalPercent {
	return [5]IntervalPercent{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut}
}

// BootstrapOptions configures Bootstrap. The zero value gives 1,000 resamples, 95% intervals,
// seed 0, one worker and in-distribution positive.
type BootstrapOptions struct {
	Resamples int     // number of resamples; 0 means DefaultResamples
	Level     float64 // confidence level in (0, 1); 0 means DefaultLevel
	Seed      uint64
	Workers   int // goroutines; less than 1 means 1. The result does not depend on it.
	Positive  Class
}

// Intervals is the outcome of Bootstrap: one ResultCI per method, and the resampled metrics kept
// for paired differences.
type Intervals struct {
	Level     float64
	Resamples int
	Seed      uint64
	Methods   []ResultCI
	exact     []Result
	draws     [][]Result // draws[m][b]: method m's metrics on resample b
}

// Bootstrap computes percentile confidence intervals of the exact metrics of several methods
// scored on the same images: in[m][i] is method m's score of in-distribution image i, out[m][j]
// its score of OOD image j, so every method has the same number of in-distribution and of OOD
// scores.
//
// The bootstrap is stratified: each resample draws len(in[0]) in-distribution images and
// len(out[0]) OOD images with replacement, separately, and every method is evaluated on the same
// drawn images, which makes Diff a paired comparison. Resample b draws from a PCG generator
// seeded with (Seed, b), so the intervals depend on the seed but not on Workers. The interval of
// a metric is the (1−Level)/2 and (1+Level)/2 quantiles of its resampled values (percentile
// method, quantiles interpolated linearly between order statistics); Value is the exact metric
// of the scores themselves, as Compute returns it. The interval need not contain Value: a
// resample repeats samples, repeats are ties, and they bias the resampled AUPRs upwards where
// the two classes overlap little (or are reversed).
//
// Each method's scores are sorted once; a resample then costs O(n) per method: the drawn
// multiplicities are added up per distinct score and the metrics swept over those counts.
func Bootstrap(ctx context.Context, in, out [][]float64, opt BootstrapOptions) (*Intervals, error) {
	if err := checkBootstrap(in, out, &opt); err != nil {
		return nil, err
	}
	iv := &Intervals{Level: opt.Level, Resamples: opt.Resamples, Seed: opt.Seed}
	ranks := make([]ranked, len(in))
	for m := range in {
		pos, neg := in[m], out[m]
		if opt.Positive == Out {
			pos, neg = out[m], in[m]
		}
		ranks[m] = rankScores(pos, neg, opt.Positive == Out)
		iv.exact = append(iv.exact, ranks[m].sweep(nil, nil, make([]int32, ranks[m].groups), make([]int32, ranks[m].groups)))
	}
	iv.draws = make([][]Result, len(in))
	for m := range iv.draws {
		iv.draws[m] = make([]Result, opt.Resamples)
	}
	if err := iv.resample(ctx, ranks, len(in[0]), len(out[0]), opt); err != nil {
		return nil, err
	}
	for m := range in {
		iv.Methods = append(iv.Methods, iv.interval(func(b int) Result { return iv.draws[m][b] }, iv.exact[m]))
	}
	return iv, nil
}

func checkBootstrap(in, out [][]float64, opt *BootstrapOptions) error {
	if len(in) == 0 || len(in) != len(out) {
		return fmt.Errorf("metrics: bootstrap of %d in-distribution and %d OOD score sets", len(in), len(out))
	}
	for m := range in {
		switch {
		case len(in[m]) == 0:
			return errors.New("metrics: no in-distribution scores")
		case len(out[m]) == 0:
			return errors.New("metrics: no out-of-distribution scores")
		case len(in[m]) != len(in[0]) || len(out[m]) != len(out[0]):
			return fmt.Errorf("metrics: method %d has %d + %d scores, method 0 %d + %d: a bootstrap needs every method on the same images",
				m, len(in[m]), len(out[m]), len(in[0]), len(out[0]))
		case len(in[m]) > math.MaxInt32 || len(out[m]) > math.MaxInt32:
			return errors.New("metrics: too many scores for a bootstrap")
		}
		if i := slices.IndexFunc(in[m], math.IsNaN); i >= 0 {
			return fmt.Errorf("metrics: in-distribution score %d is NaN", i)
		}
		if i := slices.IndexFunc(out[m], math.IsNaN); i >= 0 {
			return fmt.Errorf("metrics: out-of-distribution score %d is NaN", i)
		}
	}
	if opt.Positive != In && opt.Positive != Out {
		return fmt.Errorf("metrics: invalid positive class %d", int(opt.Positive))
	}
	if opt.Resamples == 0 {
		opt.Resamples = DefaultResamples
	}
	if opt.Level == 0 {
		opt.Level = DefaultLevel
	}
	if opt.Resamples < 2 || opt.Resamples > 1_000_000 {
		return fmt.Errorf("metrics: %d bootstrap resamples, want 2 to 1000000", opt.Resamples)
	}
	if !(opt.Level > 0 && opt.Level < 1) {
		return fmt.Errorf("metrics: confidence level %g, want a number between 0 and 1", opt.Level)
	}
	opt.Workers = max(opt.Workers, 1)
	return nil
}

// resample fills iv.draws, resample b by worker b mod workers.
func (iv *Intervals) resample(ctx context.Context, ranks []ranked, nIn, nOut int, opt BootstrapOptions) error {
	groups := 0
	for _, r := range ranks {
		groups = max(groups, r.groups)
	}
	var wg sync.WaitGroup
	errs := make([]error, opt.Workers)
	for w := range opt.Workers {
		wg.Go(func() {
			mIn, mOut := make([]int32, nIn), make([]int32, nOut)
			a, b := make([]int32, groups), make([]int32, groups)
			for s := w; s < opt.Resamples; s += opt.Workers {
				if errs[w] = ctx.Err(); errs[w] != nil {
					return
				}
				rng := rand.New(rand.NewPCG(opt.Seed, uint64(s)))
				draw(rng, mIn)
				draw(rng, mOut)
				for m, r := range ranks {
					pos, neg := mIn, mOut
					if opt.Positive == Out {
						pos, neg = mOut, mIn
					}
					iv.draws[m][s] = r.sweep(pos, neg, a[:r.groups], b[:r.groups])
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// draw sets mult to the multiplicities of len(mult) draws with replacement from len(mult) items.
func draw(rng *rand.Rand, mult []int32) {
	clear(mult)
	n := len(mult)
	for range n {
		mult[rng.IntN(n)]++
	}
}

// ranked is one method's scores reduced to their order: the distinct scores from high to low are
// numbered 0, 1, …, and posGroup[k] is the number of the k-th highest positive score, whose
// sample is posOrder[k] (likewise for the negatives).
type ranked struct {
	posOrder, posGroup []int32
	negOrder, negGroup []int32
	groups             int
}

// rankScores orders pos and neg (negated if negate) from high to low and numbers their distinct
// values.
func rankScores(pos, neg []float64, negate bool) ranked {
	sign := 1.0
	if negate {
		sign = -1
	}
	order := func(v []float64) []int32 {
		o := make([]int32, len(v))
		for i := range o {
			o[i] = int32(i)
		}
		// Descending; −0 and +0 compare equal, as Compute treats them.
		slices.SortFunc(o, func(a, b int32) int { return cmp.Compare(sign*v[b], sign*v[a]) })
		return o
	}
	r := ranked{posOrder: order(pos), negOrder: order(neg)}
	r.posGroup, r.negGroup = make([]int32, len(pos)), make([]int32, len(neg))
	i, j, g := 0, 0, int32(-1)
	var last float64
	for i < len(pos) || j < len(neg) {
		takePos := j == len(neg) || i < len(pos) && sign*pos[r.posOrder[i]] >= sign*neg[r.negOrder[j]]
		var v float64
		if takePos {
			v = sign * pos[r.posOrder[i]]
		} else {
			v = sign * neg[r.negOrder[j]]
		}
		if g < 0 || v != last {
			g++
			last = v
		}
		if takePos {
			r.posGroup[i] = g
			i++
		} else {
			r.negGroup[j] = g
			j++
		}
	}
	r.groups = int(g) + 1
	return r
}

// sweep returns the exact metrics of a resample in which positive sample i occurs posMult[i]
// times and negative sample j negMult[j] times (once each if the slices are nil). a and b are
// scratch counts of length r.groups. The arithmetic is that of exact, step for step, so with
// every multiplicity 1 the result is bit for bit Compute's.
func (r *ranked) sweep(posMult, negMult, a, b []int32) Result {
	clear(a)
	clear(b)
	np, nn := accumulate(a, r.posOrder, r.posGroup, posMult), accumulate(b, r.negOrder, r.negGroup, negMult)
	fnp, fnn := float64(np), float64(nn)
	tp, fp := 0, 0
	fpr95 := math.NaN()
	detErr := 0.5
	var greater2 int64
	var apPos, apNeg float64
	for g := range a {
		ag, bg := int(a[g]), int(b[g])
		if ag == 0 && bg == 0 {
			continue // a score no drawn sample has
		}
		greater2 += int64(ag) * (2*int64(nn-fp-bg) + int64(bg))
		if bg > 0 {
			tn, fneg := nn-fp, np-tp
			apNeg += float64(bg) / fnn * (float64(tn) / float64(tn+fneg))
		}
		tp += ag
		fp += bg
		tpr, fpr := float64(tp)/fnp, float64(fp)/fnn
		if ag > 0 {
			apPos += float64(ag) / fnp * (float64(tp) / float64(tp+fp))
		}
		if math.IsNaN(fpr95) && tpr >= 0.95 {
			fpr95 = fpr
		}
		detErr = min(detErr, 0.5*(1-tpr)+0.5*fpr)
	}
	return Result{fpr95, detErr, float64(greater2) / (2 * fnp * fnn), apPos, apNeg}
}

// accumulate adds each sample's multiplicity (1 if mult is nil) to the count of its group and
// returns the total.
func accumulate(count, order, group, mult []int32) int {
	total := 0
	if mult == nil {
		for _, g := range group {
			count[g]++
		}
		return len(group)
	}
	for k, g := range group {
		c := mult[order[k]]
		count[g] += c
		total += int(c)
	}
	return total
}

// interval turns the resampled metrics draw(0 … Resamples−1) into percentile intervals around
// the exact values.
func (iv *Intervals) interval(draw func(b int) Result, exact Result) ResultCI {
	var out ResultCI
	vals := make([]float64, iv.Resamples)
	lo, hi := (1-iv.Level)/2, (1+iv.Level)/2
	ex := [5]float64{exact.FPR95, exact.DetErr, exact.AUROC, exact.AUPRIn, exact.AUPROut}
	for k, f := range out.fields() {
		for b := range vals {
			r := draw(b)
			vals[b] = [5]float64{r.FPR95, r.DetErr, r.AUROC, r.AUPRIn, r.AUPROut}[k]
		}
		slices.Sort(vals)
		*f = Interval{Value: ex[k], Low: quantile(vals, lo), High: quantile(vals, hi)}
	}
	return out
}

// quantile interpolates linearly between the order statistics of sorted v (Hyndman and Fan's
// type 7, NumPy's default).
func quantile(v []float64, p float64) float64 {
	h := p * float64(len(v)-1)
	i := int(h)
	if i >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[i] + (h-float64(i))*(v[i+1]-v[i])
}

// Diff returns the paired interval of method a's metrics minus method b's: the percentile
// interval of the differences on the same resamples, around the difference of the exact values.
// An interval that excludes 0 says the difference is not resampling noise at this level.
func (iv *Intervals) Diff(a, b int) (ResultCI, error) {
	if a < 0 || b < 0 || a >= len(iv.draws) || b >= len(iv.draws) {
		return ResultCI{}, fmt.Errorf("metrics: methods %d and %d of %d", a, b, len(iv.draws))
	}
	sub := func(x, y Result) Result {
		return Result{x.FPR95 - y.FPR95, x.DetErr - y.DetErr, x.AUROC - y.AUROC, x.AUPRIn - y.AUPRIn, x.AUPROut - y.AUPROut}
	}
	return iv.interval(func(s int) Result { return sub(iv.draws[a][s], iv.draws[b][s]) }, sub(iv.exact[a], iv.exact[b])), nil
}
