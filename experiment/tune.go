package experiment

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
	"github.com/odin-ood/odin/scorefile"
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
		if !(t > 0) || math.IsInf(t, 0) {
			return fmt.Errorf("temperature %g: must be positive and finite", t)
		}
		if seen[t] {
			return fmt.Errorf("temperature %g listed twice", t)
		}
		seen[t] = true
	}
	clear(seen)
	for _, m := range g.Magnitudes {
		if m < 0 {
			return fmt.Errorf("magnitude %g: must not be negative", m)
		}
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("magnitude %g: must be finite", m)
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

// GridScores are ODIN's scores of a range of images at every cell of a grid.
type GridScores struct {
	Grid         Grid
	First, Count int
	// Cells[c][i] is the score of image First+i at cell c, bit-identical to what ood.ODIN with
	// that cell's temperature and magnitude gives the image.
	Cells [][]float64
	// Baseline[i] is the maximum softmax probability of image First+i (ood.MSP).
	Baseline []float64
	// Forward and Backward count the image passes run. A perturbed copy is passed forward once
	// for all temperatures whose gradient has the same signs on that image.
	Forward, Backward int
	// Resumed counts the images read back from a score file instead of scored.
	Resumed int
}

// GridScorer scores images at every cell of a grid, doing each piece of work once: per image one
// clean forward pass (which also gives every ε = 0 cell, as max softmax(f/T) of the clean logits),
// one backward pass per temperature, and one forward pass per perturbed copy x − ε·sign(g)/σ
// with ε > 0. Perturbed copies are packed into full micro-batches; an image's result does not
// depend on the other images of its micro-batch, so the scores are those of ood.ODIN. A
// GridScorer keeps its workers' buffers between calls and is not safe for concurrent use.
type GridScorer struct {
	Model *models.Model
	Grid  Grid
	pool  *nn.Pool
	work  []*gridWork
}

// gridWork is one worker's buffers, kept between calls.
type gridWork struct {
	b       *ood.Batch
	images  []float32
	grads   [][]float32 // per temperature, the input gradients of the micro-batch
	x       []float32   // perturbed copies for one forward pass
	rep     []int       // rep[i·nT+t]: the first temperature with the same signs as t on image i
	jobs    []gridJob
	fwd, bw int
}

// gridJob is one perturbed copy: image i along the gradient at temperature t, magnitude e.
type gridJob struct{ i, t, e int }

// NewGridScorer makes a scorer of the grid with the given workers and micro-batch size.
func NewGridScorer(m *models.Model, g Grid, workers, batch int) (*GridScorer, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	p := nn.NewPool(m.Graph, workers, batch)
	return &GridScorer{Model: m, Grid: g, pool: p, work: make([]*gridWork, p.Workers())}, nil
}

// Passes is the number of image passes (forward plus backward) that scoring count images takes
// without the sharing of sign patterns between temperatures; progress is reported against it.
func (s *GridScorer) Passes(count int) int {
	nT, nE := len(s.Grid.Temperatures), 0
	for _, m := range s.Grid.Magnitudes {
		if m > 0 {
			nE++
		}
	}
	return count * (1 + nT + nT*nE)
}

// Score scores images first … first+count−1 of ds. progress (if not nil) is told the passes done
// out of Passes(count), from one goroutine at a time.
func (s *GridScorer) Score(ctx context.Context, ds dataset.Dataset, first, count int, progress func(done, total int)) (*GridScores, error) {
	return s.ScoreFile(ctx, ds, first, count, "", progress)
}

// Columns names the columns of ScoreFile's score file: baseline, then one per cell in grid
// order, "T<temperature>_e<magnitude>".
func (s *GridScorer) Columns() []string {
	cols := []string{"baseline"}
	for c := range s.Grid.Len() {
		T, e := s.Grid.Cell(c)
		cols = append(cols, "T"+strconv.FormatFloat(T, 'g', -1, 64)+"_e"+strconv.FormatFloat(e, 'g', -1, 64))
	}
	return cols
}

// ScoreFile is Score keeping the scores in a score file (package scorefile, with Columns) at
// path, if path is not empty: the images the file already holds are read back instead of scored,
// and each micro-batch's rows are written and flushed as soon as it is done, so an interrupted
// run loses at most the micro-batches in progress. The file must hold scores of this network and
// grid; its header guards the grid, the caller the rest (see Tuner.CacheDir).
func (s *GridScorer) ScoreFile(ctx context.Context, ds dataset.Dataset, first, count int, path string, progress func(done, total int)) (*GridScores, error) {
	if first < 0 || count < 1 || first+count > ds.Len() {
		return nil, fmt.Errorf("%s: images %d to %d requested, the set has %d", ds.Name(), first, first+count-1, ds.Len())
	}
	out := &GridScores{Grid: s.Grid, First: first, Count: count, Cells: make([][]float64, s.Grid.Len()),
		Baseline: make([]float64, count)}
	for c := range out.Cells {
		out.Cells[c] = make([]float64, count)
	}
	todo := make([]int, count) // positions i of images first+i still to score
	for i := range todo {
		todo[i] = i
	}
	var sink *scorefile.Writer
	if path != "" {
		var err error
		if sink, err = scorefile.Append(path, s.Columns()); err != nil {
			return nil, err
		}
		defer func() {
			if sink != nil {
				sink.Close() // after an error, which is the one to report
			}
		}()
		if todo, err = out.readBack(path, todo); err != nil {
			return nil, err
		}
		out.Resumed = count - len(todo)
	}
	var mu sync.Mutex
	done, total := 0, s.Passes(count)
	report := func(n int) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done += n
		progress(done, total)
	}
	if out.Resumed > 0 {
		report(s.Passes(out.Resumed))
	}
	for _, w := range s.work {
		if w != nil {
			w.fwd, w.bw = 0, 0
		}
	}
	row := make([]float64, 1+s.Grid.Len())
	err := s.pool.Run(ctx, len(todo), func(e *nn.Exec, worker, lo, hi int) error {
		w := s.work[worker]
		if w == nil {
			w = s.newWork(e)
			s.work[worker] = w
		}
		pos := todo[lo:hi]
		if err := s.microBatch(ctx, w, ds, first, pos, out, report); err != nil {
			return err
		}
		if sink == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pos {
			row[0] = out.Baseline[p]
			for c := range out.Cells {
				row[1+c] = out.Cells[c][p]
			}
			if err := sink.Write(first+p, row); err != nil {
				return err
			}
		}
		return sink.Flush()
	})
	for _, w := range s.work {
		if w != nil {
			out.Forward += w.fwd
			out.Backward += w.bw
		}
	}
	if err != nil {
		return nil, err
	}
	if sink != nil {
		err, sink = sink.Close(), nil
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readBack fills in the scores the file at path holds and returns the positions of todo it does
// not hold.
func (out *GridScores) readBack(path string, todo []int) ([]int, error) {
	f, err := scorefile.Read(path)
	if err != nil {
		return nil, err
	}
	known := make([]bool, out.Count)
	for r, idx := range f.Index {
		p := idx - out.First
		if p < 0 || p >= out.Count {
			return nil, fmt.Errorf("scores %s: image %d is not among images %d to %d of this run; use another cache folder", path, idx, out.First, out.First+out.Count-1)
		}
		known[p] = true
		out.Baseline[p] = f.Values[0][r]
		for c := range out.Cells {
			out.Cells[c][p] = f.Values[1+c][r]
		}
	}
	rest := todo[:0]
	for _, p := range todo {
		if !known[p] {
			rest = append(rest, p)
		}
	}
	return rest, nil
}

func (s *GridScorer) newWork(e *nn.Exec) *gridWork {
	c := e.Cap()
	w := &gridWork{b: ood.NewBatch(s.Model, e), images: make([]float32, c*dataset.Pixels),
		x: make([]float32, c*dataset.Pixels), rep: make([]int, c*len(s.Grid.Temperatures))}
	for range s.Grid.Temperatures {
		w.grads = append(w.grads, make([]float32, c*dataset.Pixels))
	}
	return w
}

// microBatch scores images first+p for p in pos into position p of out.
func (s *GridScorer) microBatch(ctx context.Context, w *gridWork, ds dataset.Dataset, first int, pos []int, out *GridScores, report func(int)) error {
	const P = dataset.Pixels
	n := len(pos)
	temps, mags := s.Grid.Temperatures, s.Grid.Magnitudes
	nT, nE := len(temps), len(mags)
	k := s.Model.Classes()
	b := w.b
	for i := range n {
		if _, err := ds.Image(first+pos[i], w.images[i*P:(i+1)*P]); err != nil {
			return err
		}
	}
	if err := b.Load(w.images, n); err != nil {
		return err
	}
	w.fwd += n
	report(n)
	for i := range n {
		out.Baseline[pos[i]] = ood.MaxSoftmax(b.Logits[i*k:(i+1)*k], 1)
	}
	// Every backward pass needs the clean forward pass, so all of them run before any perturbed one.
	for t, T := range temps {
		g, err := ood.InputGradient(b, T)
		if err != nil {
			return err
		}
		copy(w.grads[t], g[:n*P])
		w.bw += n
		report(n)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for t, T := range temps {
		for e, m := range mags {
			if m == 0 {
				for i := range n {
					out.Cells[t*nE+e][pos[i]] = ood.MaxSoftmax(b.Logits[i*k:(i+1)*k], T)
				}
			}
		}
	}
	// The perturbed copy depends on the gradient only through its signs (sign(0) = +1, as in
	// ood.Perturb), so temperatures whose signs agree on an image share its forward passes.
	for i := range n {
		for t := range nT {
			r := t
			for u := range t {
				if w.rep[i*nT+u] == u && sameSigns(w.grads[t][i*P:(i+1)*P], w.grads[u][i*P:(i+1)*P]) {
					r = u
					break
				}
			}
			w.rep[i*nT+t] = r
		}
	}
	w.jobs = w.jobs[:0]
	for i := range n {
		for t := range nT {
			if w.rep[i*nT+t] != t {
				continue
			}
			for e, m := range mags {
				if m > 0 {
					w.jobs = append(w.jobs, gridJob{i, t, e})
				}
			}
		}
	}
	planned := s.Passes(n) - n*(1+nT)
	capacity := b.Exec.Cap()
	for start := 0; start < len(w.jobs); start += capacity {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := w.jobs[start:min(len(w.jobs), start+capacity)]
		for j, jb := range chunk {
			ood.Perturb(w.x[j*P:(j+1)*P], b.Input[jb.i*P:(jb.i+1)*P], w.grads[jb.t][jb.i*P:(jb.i+1)*P], mags[jb.e], s.Model.Std, 1)
		}
		logits, err := b.ForwardImages(w.x, len(chunk))
		if err != nil {
			return err
		}
		w.fwd += len(chunk)
		for j, jb := range chunk {
			f := logits[j*k : (j+1)*k]
			for t := jb.t; t < nT; t++ {
				if w.rep[jb.i*nT+t] == jb.t {
					out.Cells[t*nE+jb.e][pos[jb.i]] = ood.MaxSoftmax(f, temps[t])
				}
			}
		}
		report(len(chunk))
		planned -= len(chunk)
	}
	report(planned) // the copies that shared another temperature's passes
	return nil
}

// sameSigns reports whether a and b perturb every pixel the same way: v ≥ 0 for both or neither.
func sameSigns(a, b []float32) bool {
	for i, v := range a {
		if (v >= 0) != (b[i] >= 0) {
			return false
		}
	}
	return true
}

// Cell is one point of a grid search with its metrics on the held-out images.
type Cell struct {
	Temperature, Magnitude float64
	// Result holds the metrics of the cell's scores; its fields are NaN in a search without OOD
	// data.
	Result metrics.Result
	// InMean is the mean score of the in-distribution images.
	InMean float64
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

// WriteCSV writes Rows as CSV.
func (t *Tuning) WriteCSV(w io.Writer) error {
	header, rows := t.Rows()
	cw := csv.NewWriter(w)
	cw.Write(header)
	cw.WriteAll(rows)
	return cw.Error()
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
	for _, c := range t.Cells {
		p := c.Result.Percent()
		rows = append(rows, []string{f(c.Temperature), f(c.Magnitude), f(p.FPR95), f(p.DetErr), f(p.AUROC), f(p.AUPRIn), f(p.AUPROut)})
	}
	return header, rows
}

// Tuner searches ODIN's temperature and magnitude on held-out images. It keeps the grid scores of
// every range it has scored, so the in-distribution images are scored once however many
// validation sets are tuned against them.
//
// Two protocols use it. Per set (how the seed's ε table was made): Tune against images 0–999 of
// each OOD set and evaluate each set on its images 1000 onwards with its own BestCell. One
// validation set (the paper's, with iSUN): Tune against one set and evaluate every other set
// with that one BestCell. A Tuner is not safe for concurrent use. Set Metrics and Progress before the first call.
type Tuner struct {
	Model     *models.Model
	Grid      Grid
	Criterion Criterion
	// Metrics selects how cells are evaluated; the zero value is the exact metrics, as Eval's.
	Metrics metrics.Options
	// Progress, if set, is told the passes done for the set being scored ("in" or "out").
	Progress func(set string, done, total int)
	// CacheDir, if not empty, keeps the grid scores of each range in a folder below it named
	// after the range's identity: Identity plus the set's name, the range and the grid. Later
	// searches (another validation set, a rerun, a run interrupted midway) read them back.
	// Identity must then name everything else the scores depend on: the network and its
	// checkpoint, the GEMM kernel, and the seed of generated sets.
	CacheDir string
	Identity map[string]string
	scorer   *GridScorer
	cache    map[rangeKey]*GridScores
}

type rangeKey struct {
	name         string
	first, count int
}

// NewTuner makes a tuner with the given workers and micro-batch size.
func NewTuner(m *models.Model, g Grid, c Criterion, workers, batch int) (*Tuner, error) {
	if _, err := ParseCriterion(string(c)); err != nil {
		return nil, err
	}
	if c == MaxInScore && len(g.Temperatures) != 1 {
		return nil, fmt.Errorf("a search without OOD data takes one temperature, got %d", len(g.Temperatures))
	}
	s, err := NewGridScorer(m, g, workers, batch)
	if err != nil {
		return nil, err
	}
	return &Tuner{Model: m, Grid: g, Criterion: c, scorer: s, cache: map[rangeKey]*GridScores{}}, nil
}

// Scores returns the grid scores of a range, scoring it unless an earlier call did. set names it
// for Progress.
func (t *Tuner) Scores(ctx context.Context, set string, r Range) (*GridScores, error) {
	key := rangeKey{r.Data.Name(), r.First, r.Count}
	if s, ok := t.cache[key]; ok {
		return s, nil
	}
	var progress func(done, total int)
	if t.Progress != nil {
		progress = func(done, total int) { t.Progress(set, done, total) }
	}
	path := ""
	if t.CacheDir != "" {
		id := maps.Clone(t.Identity)
		if id == nil {
			id = map[string]string{}
		}
		id["set"], id["first"], id["count"] = r.Data.Name(), strconv.Itoa(r.First), strconv.Itoa(r.Count)
		id["temperatures"], id["magnitudes"] = joinFloats(t.Grid.Temperatures), joinFloats(t.Grid.Magnitudes)
		dir := filepath.Join(t.CacheDir, IdentityDir(id))
		if err := prepare(dir, id); err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "grid.csv")
	}
	s, err := t.scorer.ScoreFile(ctx, r.Data, r.First, r.Count, path, progress)
	if err != nil {
		return nil, err
	}
	t.cache[key] = s
	return s, nil
}

// Tune searches the grid with in as held-out in-distribution images and val as validation OOD
// images. The two must be different sets (by name). With the paper's protocol, in and val are
// images 0–999 and the chosen parameters are evaluated on images 1000 onwards.
func (t *Tuner) Tune(ctx context.Context, in, val Range) (*Tuning, error) {
	if t.Criterion == MaxInScore {
		return nil, errors.New("criterion in_score needs no validation set: use TuneInOnly")
	}
	if in.Data.Name() == val.Data.Name() {
		return nil, fmt.Errorf("validation set %s is the in-distribution set", val.Data.Name())
	}
	si, err := t.Scores(ctx, "in", in)
	if err != nil {
		return nil, err
	}
	so, err := t.Scores(ctx, "out", val)
	if err != nil {
		return nil, err
	}
	return Search(si, so, t.Criterion, t.Metrics)
}

// TuneInOnly chooses ε from in-distribution images alone (MaxInScore); the grid has one
// temperature.
func (t *Tuner) TuneInOnly(ctx context.Context, in Range) (*Tuning, error) {
	if t.Criterion != MaxInScore {
		return nil, fmt.Errorf("criterion %s needs OOD data: use Tune", t.Criterion)
	}
	si, err := t.Scores(ctx, "in", in)
	if err != nil {
		return nil, err
	}
	return SearchInOnly(si)
}
