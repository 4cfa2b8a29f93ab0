package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Result holds the five metrics as fractions in [0, 1] (not percent). See the package
// documentation for their exact definitions. A field is NaN only in reference-compatible mode,
// when the reference script would have failed to produce it.
type Result struct {
	FPR95   float64 // FPR at 95% TPR; lower is better
	DetErr  float64 // minimum detection error; lower is better
	AUROC   float64 // area under the ROC curve
	AUPRIn  float64 // average precision of the positive class (in-distribution by default)
	AUPROut float64 // average precision of the negative class (OOD by default)
}

// Class names which set of samples is the positive class.
type Class int

const (
	In  Class = iota // in-distribution samples are positive (the paper's convention)
	Out              // OOD samples are positive (OpenOOD's and pytorch-ood's convention)
)

func (c Class) String() string {
	switch c {
	case In:
		return "in-distribution"
	case Out:
		return "out-of-distribution"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Options selects how Compute evaluates. The zero Options gives the exact metrics with
// in-distribution positive.
type Options struct {
	Positive Class

	// ReferenceCompat sweeps Grid as the paper's evaluation script did instead of computing the
	// exact metrics.
	ReferenceCompat bool
	// Grid is the threshold grid of the reference-compatible mode; the zero Grid means
	// PaperGrid("odin", 10). Ignored unless ReferenceCompat is set.
	Grid Grid
}

// Compute returns the metrics for the scores of in-distribution samples in and OOD samples out,
// higher scores meaning more in-distribution. It returns an error if either set is empty or holds
// a NaN score. The inputs are not modified.
func Compute(in, out []float64, opt Options) (Result, error) {
	if len(in) == 0 {
		return Result{}, errors.New("metrics: no in-distribution scores")
	}
	if len(out) == 0 {
		return Result{}, errors.New("metrics: no out-of-distribution scores")
	}
	if i := slices.IndexFunc(in, math.IsNaN); i >= 0 {
		return Result{}, fmt.Errorf("metrics: in-distribution score %d is NaN", i)
	}
	if i := slices.IndexFunc(out, math.IsNaN); i >= 0 {
		return Result{}, fmt.Errorf("metrics: out-of-distribution score %d is NaN", i)
	}
	if opt.Positive != In && opt.Positive != Out {
		return Result{}, fmt.Errorf("metrics: invalid positive class %d", int(opt.Positive))
	}
	if opt.ReferenceCompat {
		if opt.Positive != In {
			return Result{}, errors.New("metrics: reference-compatible mode is defined only with in-distribution positive")
		}
		g := opt.Grid
		if g == (Grid{}) {
			g, _ = PaperGrid("odin", 10)
		}
		return reference(in, out, g)
	}
	var pos, neg []float64
	if opt.Positive == In {
		pos, neg = sortedCopy(in, false), sortedCopy(out, false)
	} else {
		pos, neg = sortedCopy(out, true), sortedCopy(in, true)
	}
	return exact(pos, neg), nil
}

// exact computes the metrics for ascending, NaN-free, non-empty pos (positive class, high scores
// positive) and neg in one sweep over the distinct scores from high to low. At a threshold v,
// tp and fp count the positives and negatives with score ≥ v.
func exact(pos, neg []float64) Result {
	np, nn := len(pos), len(neg)
	fnp, fnn := float64(np), float64(nn)
	i, j := np-1, nn-1 // next unvisited positive and negative, from the top
	tp, fp := 0, 0

	fpr95 := math.NaN()
	detErr := 0.5      // the δ = +∞ extreme (and δ = −∞)
	var greater2 int64 // 2·#{(p, n): p > n} + #{(p, n): p = n}
	var apPos, apNeg float64
	for i >= 0 || j >= 0 {
		// The next threshold is the largest unvisited score.
		var v float64
		switch {
		case i < 0:
			v = neg[j]
		case j < 0:
			v = pos[i]
		default:
			v = max(pos[i], neg[j])
		}
		a, b := 0, 0
		for i >= 0 && pos[i] == v {
			a++
			i--
		}
		for j >= 0 && neg[j] == v {
			b++
			j--
		}
		// Negatives strictly below v: those not yet visited.
		greater2 += int64(a) * (2*int64(j+1) + int64(b))

		// Average precision of the negative class scored by −s: at threshold −v the flagged
		// samples are those with s ≤ v, i.e. all but the tp positives and fp negatives above v.
		if b > 0 {
			tn, fneg := nn-fp, np-tp // negatives and positives with s ≤ v
			apNeg += float64(b) / fnn * (float64(tn) / float64(tn+fneg))
		}

		tp += a
		fp += b
		tpr, fpr := float64(tp)/fnp, float64(fp)/fnn
		if a > 0 {
			apPos += float64(a) / fnp * (float64(tp) / float64(tp+fp))
		}
		if math.IsNaN(fpr95) && tpr >= 0.95 {
			fpr95 = fpr
		}
		detErr = min(detErr, 0.5*(1-tpr)+0.5*fpr)
	}
	return Result{
		FPR95:   fpr95,
		DetErr:  detErr,
		AUROC:   float64(greater2) / (2 * fnp * fnn),
		AUPRIn:  apPos,
		AUPROut: apNeg,
	}
}
