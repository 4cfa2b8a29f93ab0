package experiment

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/ood"
)

// Cell is one point of a grid search with its metrics on the held-out images.
type Cell struct {
	Temperature, Magnitude float64
	// Result holds the metrics of the cell's scores; its fields are NaN in a search without OOD
	// data.
	Result metrics.Result
	// InMean is the mean score of the in-distribution images.
	InMean float64
	// Images is the number of in-distribution images, and of OOD images, the metrics rest on:
	// all of them (Tuning.In) unless a successive-halving search dropped the cell earlier.
	Images int
}

// Tuning is the outcome of a grid search.
type Tuning struct {
	Grid      Grid
	Criterion Criterion
	// Cells are in grid order, temperature-major.
	Cells []Cell
	// Best indexes the chosen cell: the best by Criterion; ties go to the better AUROC, then
	// FPR95, then detection error (those of the three that are not the criterion, in this
	// order), then to the earlier cell in grid order.
	Best int
	// Baseline holds the metrics of the maximum softmax probability on the same images (NaN
	// without OOD data).
	Baseline metrics.Result
	// In and Out are the numbers of in-distribution and validation OOD images (Out is 0 without
	// OOD data).
	In, Out int
	// Forward and Backward count the image passes the search ran (0 when every score was read
	// back from a cache); Search describes how cells were chosen for scoring, "" for all of them
	// on every image.
	Forward, Backward int
	Search            string
}

// Detector returns ODIN with the cell's temperature and magnitude.
func (c Cell) Detector() *ood.ODIN {
	return &ood.ODIN{Temperature: c.Temperature, Magnitude: c.Magnitude}
}

// BestCell is the chosen cell.
func (t *Tuning) BestCell() Cell { return t.Cells[t.Best] }

// Search computes the metrics of every cell from the grid scores of held-out in-distribution and
// validation OOD images, and chooses the best cell by criterion c (not MaxInScore, which is
// SearchInOnly's). The metrics of a cell are exactly those that Eval reports for ood.ODIN with
// the cell's parameters on the same images.
func Search(in, out *GridScores, c Criterion, opt metrics.Options) (*Tuning, error) {
	if c == MaxInScore {
		return nil, errors.New("criterion in_score is for a search without OOD data")
	}
	if _, err := ParseCriterion(string(c)); err != nil {
		return nil, err
	}
	if !sameGrid(in.Grid, out.Grid) {
		return nil, errors.New("in-distribution and OOD scores are of different grids")
	}
	t := &Tuning{Grid: in.Grid, Criterion: c, Cells: make([]Cell, in.Grid.Len()), In: in.Count, Out: out.Count}
	var err error
	if t.Baseline, err = metrics.Compute(in.Baseline, out.Baseline, opt); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	for i := range t.Cells {
		cell := &t.Cells[i]
		cell.Temperature, cell.Magnitude = in.Grid.Cell(i)
		if cell.Result, err = metrics.Compute(in.Cells[i], out.Cells[i], opt); err != nil {
			return nil, fmt.Errorf("T=%g ε=%g: %w", cell.Temperature, cell.Magnitude, err)
		}
		cell.InMean = mean(in.Cells[i])
		cell.Images = in.Count
		if c.better(*cell, t.Cells[t.Best]) {
			t.Best = i
		}
	}
	return t, nil
}

// SearchInOnly chooses the cell with the highest mean in-distribution score (MaxInScore); ties go
// to the earlier cell. The grid must have one temperature: scores at different temperatures are
// not comparable (a higher temperature flattens every softmax).
func SearchInOnly(in *GridScores) (*Tuning, error) {
	if n := len(in.Grid.Temperatures); n != 1 {
		return nil, fmt.Errorf("a search without OOD data takes one temperature, got %d", n)
	}
	nan := math.NaN()
	none := metrics.Result{FPR95: nan, DetErr: nan, AUROC: nan, AUPRIn: nan, AUPROut: nan}
	t := &Tuning{Grid: in.Grid, Criterion: MaxInScore, Cells: make([]Cell, in.Grid.Len()), Baseline: none, In: in.Count}
	for i := range t.Cells {
		cell := &t.Cells[i]
		cell.Temperature, cell.Magnitude = in.Grid.Cell(i)
		cell.Result = none
		cell.InMean = mean(in.Cells[i])
		if cell.InMean > t.Cells[t.Best].InMean {
			t.Best = i
		}
	}
	return t, nil
}

// better reports whether a beats b by the criterion and then the tie-breaks of Tuning.Best.
func (c Criterion) better(a, b Cell) bool {
	keys := []Criterion{c}
	for _, k := range []Criterion{MaxAUROC, MinFPR95, MinDetErr} {
		if k != c {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		var x, y float64 // lower is better
		switch k {
		case MinFPR95:
			x, y = a.Result.FPR95, b.Result.FPR95
		case MinDetErr:
			x, y = a.Result.DetErr, b.Result.DetErr
		case MaxAUROC:
			x, y = -a.Result.AUROC, -b.Result.AUROC
		}
		switch {
		case math.IsNaN(x) && math.IsNaN(y), x == y:
			continue
		case math.IsNaN(y):
			return true
		case math.IsNaN(x):
			return false
		}
		return x < y
	}
	return false
}

func sameGrid(a, b Grid) bool {
	eq := func(x, y []float64) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return eq(a.Temperatures, b.Temperatures) && eq(a.Magnitudes, b.Magnitudes)
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Rows returns a header and one row per cell in grid order. With OOD data the columns are
// temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out with the metrics in percent (as
// metrics.Result.Percent gives them, so equal to what odin eval prints); without, they are
// temperature,magnitude,in_score (the mean in-distribution score). Values are written at full
// precision.
func (t *Tuning) Rows() (header []string, rows [][]string) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if t.Criterion == MaxInScore {
		header = []string{"temperature", "magnitude", "in_score"}
		for _, c := range t.Cells {
			rows = append(rows, []string{f(c.Temperature), f(c.Magnitude), f(c.InMean)})
		}
		return header, rows
	}
	header = []string{"temperature", "magnitude", "fpr95", "det_err", "auroc", "aupr_in", "aupr_out"}
	if t.Search != "" {
		// A successive-halving search: how many images each cell's metrics rest on.
		header = append(header, "images")
	}
	for _, c := range t.Cells {
		p := c.Result.Percent()
		row := []string{f(c.Temperature), f(c.Magnitude), f(p.FPR95), f(p.DetErr), f(p.AUROC), f(p.AUPRIn), f(p.AUPROut)}
		if t.Search != "" {
			row = append(row, strconv.Itoa(c.Images))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// WriteGrid writes every cell of one or several searches as CSV (Rows). With several, a first
// column val_dataset names each search's validation set, vals[i] for results[i].
func WriteGrid(w io.Writer, vals []string, results []*Tuning) error {
	if len(vals) != len(results) {
		return fmt.Errorf("grid CSV: %d names for %d searches", len(vals), len(results))
	}
	cw := csv.NewWriter(w)
	for i, res := range results {
		header, rows := res.Rows()
		if len(results) > 1 {
			header = append([]string{"val_dataset"}, header...)
			for j := range rows {
				rows[j] = append([]string{vals[i]}, rows[j]...)
			}
		}
		if i == 0 {
			cw.Write(header)
		}
		cw.WriteAll(rows)
	}
	return cw.Error()
}
