package experiment

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/odin-ood/odin/ood"
)

// Grid is the set of ODIN parameters a search tries: every temperature with every magnitude.
// Cells are numbered temperature-major: cell t·len(Magnitudes)+e has Temperatures[t] and
// Magnitudes[e].
type Grid struct {
	Temperatures []float64
	Magnitudes   []float64
}

// PaperGrid returns the grid the ODIN paper searched: T ∈ {1, 2, 5, 10, 20, 50, 100, 200, 500,
// 1000} and 21 values of ε evenly spaced in [0, 0.004].
func PaperGrid() Grid {
	return Grid{
		Temperatures: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		Magnitudes:   Spaced(0, 0.004, 21),
	}
}

// Spaced returns n values evenly spaced from lo to hi, both included (lo alone when n is 1). Each
// is rounded to 12 significant digits, so that Spaced(0, 0.004, 21) holds exactly the float64
// values of the decimals 0, 0.0002, …, 0.004 that a user would type.
func Spaced(lo, hi float64, n int) []float64 {
	if n < 1 {
		return nil
	}
	if n == 1 {
		return []float64{lo}
	}
	v := make([]float64, n)
	for i := range v {
		x := lo + (hi-lo)*float64(i)/float64(n-1)
		v[i], _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	}
	return v
}

// Len is the number of cells.
func (g Grid) Len() int { return len(g.Temperatures) * len(g.Magnitudes) }

// Cell returns the temperature and magnitude of cell c.
func (g Grid) Cell(c int) (temperature, magnitude float64) {
	return g.Temperatures[c/len(g.Magnitudes)], g.Magnitudes[c%len(g.Magnitudes)]
}

// Check reports an empty grid, a temperature that is not positive and finite, a magnitude that
// is negative or not finite, and a value listed twice.
func (g Grid) Check() error {
	if len(g.Temperatures) == 0 {
		return errors.New("empty grid: no temperatures")
	}
	if len(g.Magnitudes) == 0 {
		return errors.New("empty grid: no magnitudes")
	}
	seen := map[float64]bool{}
	for _, t := range g.Temperatures {
		if err := ood.CheckTemperature(t); err != nil {
			return err
		}
		if seen[t] {
			return fmt.Errorf("temperature %g listed twice", t)
		}
		seen[t] = true
	}
	clear(seen)
	for _, m := range g.Magnitudes {
		if err := ood.CheckMagnitude(m); err != nil {
			return err
		}
		if seen[m] {
			return fmt.Errorf("magnitude %g listed twice", m)
		}
		seen[m] = true
	}
	return nil
}

// Criterion is what a search optimises.
type Criterion string

const (
	// MinFPR95 picks the lowest FPR at 95% TPR, the paper's criterion.
	MinFPR95 Criterion = "fpr95"
	// MinDetErr picks the lowest detection error.
	MinDetErr Criterion = "det_err"
	// MaxAUROC picks the highest AUROC.
	MaxAUROC Criterion = "auroc"
	// MaxInScore needs no OOD data: it picks the highest mean score of the held-out
	// in-distribution images, the rule of Generalized ODIN (Hsu et al., CVPR 2020) for ε at a
	// fixed temperature. Perturbing along the gradient raises the softmax score of inputs the
	// network models well more than that of others (ODIN's observation); this rule takes the ε
	// at which the in-distribution images gain most, and does not look at how OOD inputs fare.
	MaxInScore Criterion = "in_score"
)

// ParseCriterion accepts fpr95, det_err, auroc and in_score.
func ParseCriterion(s string) (Criterion, error) {
	switch c := Criterion(s); c {
	case MinFPR95, MinDetErr, MaxAUROC, MaxInScore:
		return c, nil
	}
	return "", fmt.Errorf("unknown criterion %q (valid: fpr95, det_err, auroc, in_score)", s)
}
