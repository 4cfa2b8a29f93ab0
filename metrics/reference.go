package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Grid is the threshold grid of the reference-compatible mode (see the package documentation).
type Grid struct {
	Start, End float64
	// Steps divides End − Start into the grid spacing; zero means 100000, the reference's value.
	Steps int
	// InclusiveAUROC counts OOD scores equal to a threshold as accepted in the AUROC sweep, as the
	// reference did for ODIN scores; it used strict comparison for the baseline.
	InclusiveAUROC bool
}

// PaperGrid returns the grid the reference evaluation used for a detector ("baseline" for the
// maximum softmax probability, "odin" for ODIN at temperature 1000) and a number of classes (10 for
// CIFAR-10, 100 for CIFAR-100). The reference defined no other grids.
func PaperGrid(detector string, classes int) (Grid, error) {
	switch {
	case detector == "baseline" && classes == 10:
		return Grid{Start: 0.1, End: 1}, nil
	case detector == "baseline" && classes == 100:
		return Grid{Start: 0.01, End: 1}, nil
	case detector == "odin" && classes == 10:
		return Grid{Start: 0.1, End: 0.12, InclusiveAUROC: true}, nil
	case detector == "odin" && classes == 100:
		return Grid{Start: 0.01, End: 0.0104, InclusiveAUROC: true}, nil
	}
	return Grid{}, fmt.Errorf("metrics: the reference defined no grid for detector %q with %d classes (have baseline and odin with 10 or 100)", detector, classes)
}

// points returns the grid's thresholds from first to last, reproducing numpy.arange(first, stop,
// step): its length is ⌈(stop − first)/step⌉ and element i is first + i·((first + step) − first).
func points(first, stop, step float64) []float64 {
	n := math.Ceil((stop - first) / step)
	if !(n > 0) {
		return nil
	}
	d := (first + step) - first
	p := make([]float64, int(n))
	for i := range p {
		p[i] = first + float64(i)*d
	}
	if len(p) > 1 {
		p[1] = first + step
	}
	return p
}

// reference evaluates the metrics on the grid g as the paper's evaluation script did.
func reference(in, out []float64, g Grid) (Result, error) {
	steps := g.Steps
	if steps == 0 {
		steps = 100000
	}
	if steps < 0 || steps > 10_000_000 {
		return Result{}, fmt.Errorf("metrics: reference grid steps %d out of range [1, 1e7]", steps)
	}
	if math.IsInf(g.Start, 0) || math.IsInf(g.End, 0) || math.IsNaN(g.Start) || math.IsNaN(g.End) || !(g.Start < g.End) {
		return Result{}, fmt.Errorf("metrics: reference grid [%g, %g] is not a finite range with start < end", g.Start, g.End)
	}
	gap := (g.End - g.Start) / float64(steps)
	if !(gap > 0) || math.IsInf(gap, 0) {
		return Result{}, fmt.Errorf("metrics: reference grid [%g, %g] is too narrow for %d steps", g.Start, g.End, steps)
	}
	x, y := sortedCopy(in, false), sortedCopy(out, false)
	nx, ny := float64(len(x)), float64(len(y))
	// less and atMost count the sorted values below δ and at most δ.
	less := func(v []float64, d float64) int { return sort.SearchFloat64s(v, d) }
	atMost := func(v []float64, d float64) int { return sort.Search(len(v), func(i int) bool { return v[i] > d }) }

	up := points(g.Start, g.End, gap)
	var r Result

	// FPR95: mean FPR (strict) over the TPR window; 0/0 = NaN when the window is empty.
	sum, count := 0.0, 0.0
	for _, d := range up {
		tpr := float64(len(x)-less(x, d)) / nx
		if tpr <= 0.9505 && tpr >= 0.9495 {
			sum += float64(len(y)-atMost(y, d)) / ny
			count++
		}
	}
	r.FPR95 = sum / count

	r.DetErr = 1
	for _, d := range up {
		miss := float64(less(x, d)) / nx
		fpr := float64(len(y)-atMost(y, d)) / ny
		r.DetErr = min(r.DetErr, (miss+fpr)/2)
	}

	// Explicit float64 conversions keep each product rounded, as numpy's scalar arithmetic is, so
	// that the sums agree with the reference bit for bit wherever the counts agree.
	prev, tpr, fpr := 1.0, 0.0, 0.0
	for _, d := range up {
		tpr = float64(len(x)-less(x, d)) / nx
		above := len(y) - atMost(y, d)
		if g.InclusiveAUROC {
			above = len(y) - less(y, d)
		}
		fpr = float64(above) / ny
		r.AUROC += float64((prev - fpr) * tpr)
		prev = fpr
	}
	r.AUROC += float64(fpr * tpr)

	r.AUPRIn = math.NaN()
	prev, used, recall, precision := 1.0, false, 0.0, 0.0
	acc := 0.0
	for _, d := range up {
		tp := float64(len(x)-less(x, d)) / nx
		fp := float64(len(y)-less(y, d)) / ny
		if tp+fp == 0 {
			continue
		}
		precision, recall = tp/(tp+fp), tp
		acc += float64((prev - recall) * precision)
		prev, used = recall, true
	}
	if used {
		r.AUPRIn = acc + float64(recall*precision)
	}

	r.AUPROut = math.NaN()
	prev, used, acc = 1.0, false, 0
	for _, d := range points(g.End, g.Start, -gap) {
		fp := float64(less(x, d)) / nx
		tp := float64(less(y, d)) / ny
		if tp+fp == 0 {
			break
		}
		precision, recall = tp/(tp+fp), tp
		acc += float64((prev - recall) * precision)
		prev, used = recall, true
	}
	if used {
		r.AUPROut = acc + float64(recall*precision)
	}
	return r, nil
}
