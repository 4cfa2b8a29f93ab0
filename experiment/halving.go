package experiment

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/odin-ood/odin/metrics"
)

// Halving is a successive-halving search over a grid (Jamieson & Talwalkar, AISTATS 2016): every
// cell is scored on a first slice of the held-out images, the best 1/Eta of the cells by the
// criterion go on to a slice Eta times larger, and so on, until the survivors are scored on all
// the images. The survivors' metrics, and so the chosen cell's, are exact: computed on every
// held-out image, equal to what a full grid search reports for them. A dropped cell's metrics
// are those of the last slice it was scored on (Cell.Images says how many images).
//
// The risk: a cell that ranks outside the best 1/Eta on a small slice is never scored again,
// even if on all the images it would have come within noise of the winner (or beaten it). With
// the defaults (Eta 4, 3 rounds: 1/16, 1/4 and all of the images) and 1,000 + 1,000 images, the
// first round ranks 210 cells on 63 + 63 images, where one OOD image is 1.6 points of FPR95; the
// cells dropped there are the three quarters that trail by more than that noise.
type Halving struct {
	// Eta is the factor by which each round divides the cells and multiplies the images (≥ 2).
	Eta int
	// Rounds is the number of rounds, the last on all images (≥ 1; 1 is the full grid).
	Rounds int
}

// DefaultHalving keeps a quarter of the cells each round, over three rounds.
var DefaultHalving = Halving{Eta: 4, Rounds: 3}

// Check reports a factor below 2 or a round count below 1.
func (h Halving) Check() error {
	if h.Eta < 2 || h.Rounds < 1 || h.Rounds > 16 {
		return fmt.Errorf("successive halving: factor %d and %d rounds; want a factor ≥ 2 and 1 to 16 rounds", h.Eta, h.Rounds)
	}
	return nil
}

// slices returns the number of images each round ends on: count/Eta^(Rounds−1−r), at least one,
// the last equal to count, rounds that would add no image merged.
func (h Halving) slices(count int) []int {
	var out []int
	for r := range h.Rounds {
		n := count
		for range h.Rounds - 1 - r {
			n = (n + h.Eta - 1) / h.Eta
		}
		if len(out) == 0 || n > out[len(out)-1] {
			out = append(out, n)
		}
	}
	return out
}

// tuneHalving is Tune by successive halving (see Halving); in and val must hold equally many
// images, and the slices are their first images.
func (t *Tuner) tuneHalving(ctx context.Context, in, val Range) (*Tuning, error) {
	if err := t.Halving.Check(); err != nil {
		return nil, err
	}
	if in.Count != val.Count {
		return nil, fmt.Errorf("successive halving needs as many validation images as in-distribution ones, got %d and %d", val.Count, in.Count)
	}
	n := t.Grid.Len()
	si, so := newGridScores(t.Grid, in.First, in.Count), newGridScores(t.Grid, val.First, val.Count)
	active := make([]bool, n)
	for c := range active {
		active[c] = true
	}
	res := &Tuning{Grid: t.Grid, Criterion: t.Criterion, Cells: make([]Cell, n), In: in.Count, Out: val.Count}
	done := 0
	slices := t.Halving.slices(in.Count)
	for _, upto := range slices {
		if err := t.scoreSlice(ctx, si, "in", in, done, upto, active); err != nil {
			return nil, err
		}
		if err := t.scoreSlice(ctx, so, "out", val, done, upto, active); err != nil {
			return nil, err
		}
		for c := range n {
			if !active[c] {
				continue
			}
			cell, err := cellOf(t.Grid, c, si.Cells[c][:upto], so.Cells[c][:upto], t.Metrics)
			if err != nil {
				return nil, err
			}
			res.Cells[c] = cell
		}
		done = upto
		if upto < in.Count {
			keep(active, res, t.Criterion, t.Halving.Eta)
		}
	}
	res.Best = bestActive(res, active, t.Criterion)
	var err error
	if res.Baseline, err = metrics.Compute(si.Baseline, so.Baseline, t.Metrics); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	res.Forward, res.Backward = si.Forward+so.Forward, si.Backward+so.Backward
	res.Search = fmt.Sprintf("successive halving: factor %d, slices of %v images", t.Halving.Eta, slices)
	return res, nil
}

// cellOf is cell c of grid g with its metrics on the given scores.
func cellOf(g Grid, c int, in, out []float64, opt metrics.Options) (Cell, error) {
	cell := Cell{Images: len(in)}
	cell.Temperature, cell.Magnitude = g.Cell(c)
	var err error
	if cell.Result, err = metrics.Compute(in, out, opt); err != nil {
		return cell, fmt.Errorf("T=%g ε=%g: %w", cell.Temperature, cell.Magnitude, err)
	}
	cell.InMean = mean(in)
	return cell, nil
}

// scoreSlice scores images [from, upto) of r into dst at the active cells.
func (t *Tuner) scoreSlice(ctx context.Context, dst *GridScores, set string, r Range, from, upto int, active []bool) error {
	if upto <= from {
		return nil
	}
	var progress func(done, total int)
	if t.Progress != nil {
		progress = func(done, total int) { t.Progress(set, done, total) }
	}
	t.scorer.active = active
	defer func() { t.scorer.active = nil }()
	s, err := t.scorer.Score(ctx, r.Data, r.First+from, upto-from, progress)
	if err != nil {
		return err
	}
	copy(dst.Baseline[from:], s.Baseline)
	for c := range dst.Cells {
		copy(dst.Cells[c][from:], s.Cells[c])
	}
	dst.Forward += s.Forward
	dst.Backward += s.Backward
	return nil
}

// keep leaves active the best ⌈k/eta⌉ of the k active cells of r by criterion c.
func keep(active []bool, r *Tuning, c Criterion, eta int) {
	var idx []int
	for i, a := range active {
		if a {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return c.better(r.Cells[idx[a]], r.Cells[idx[b]]) })
	for _, i := range idx[(len(idx)+eta-1)/eta:] {
		active[i] = false
	}
}

// bestActive is the best of the cells still active, by c and then grid order.
func bestActive(r *Tuning, active []bool, c Criterion) int {
	best := -1
	for i, a := range active {
		if a && (best < 0 || c.better(r.Cells[i], r.Cells[best])) {
			best = i
		}
	}
	return best
}

func newGridScores(g Grid, first, count int) *GridScores {
	s := &GridScores{Grid: g, First: first, Count: count, Cells: make([][]float64, g.Len()), Baseline: make([]float64, count)}
	for c := range s.Cells {
		s.Cells[c] = make([]float64, count)
		for i := range s.Cells[c] {
			s.Cells[c][i] = math.NaN()
		}
	}
	return s
}
