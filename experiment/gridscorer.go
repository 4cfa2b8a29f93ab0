package experiment

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
	"github.com/odin-ood/odin/scorefile"
)

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
	// active, if not nil, limits the perturbed passes to the cells it marks (see scoreCells);
	// the scores of other cells with ε > 0 are then NaN or whatever a shared pass gave them.
	active []bool
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
	grads, perturbed := 0, 0
	for t := range s.Grid.Temperatures {
		n := 0
		for e, m := range s.Grid.Magnitudes {
			if m > 0 && s.isActive(t*len(s.Grid.Magnitudes)+e) {
				n++
			}
		}
		if n > 0 {
			grads++
		}
		perturbed += n
	}
	return count * (1 + grads + perturbed)
}

func (s *GridScorer) isActive(cell int) bool { return s.active == nil || s.active[cell] }

// needsGradient reports whether temperature t has an active cell with ε > 0.
func (s *GridScorer) needsGradient(t int) bool {
	nE := len(s.Grid.Magnitudes)
	for e, m := range s.Grid.Magnitudes {
		if m > 0 && s.isActive(t*nE+e) {
			return true
		}
	}
	return false
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
	if err := CheckImages(s.Model, ds); err != nil {
		return nil, err
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
		if w == nil || len(w.images) < (hi-lo)*s.pixels() { // kept from a call with fewer images
			w = s.newWork(e, min(e.Cap(), len(todo)))
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
			return nil, otherRun("scores %s: image %d is not among images %d to %d of this run", path, idx, out.First, out.First+out.Count-1)
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

// pixels is the number of values of one of the network's input images.
func (s *GridScorer) pixels() int { return s.Model.Graph.Input().Size() }

// newWork makes a worker's buffers for micro-batches of up to c images: the images in flight,
// not the Exec's capacity, so that scoring a few images with a large --batch stays small.
func (s *GridScorer) newWork(e *nn.Exec, c int) *gridWork {
	P := s.pixels()
	w := &gridWork{b: ood.NewBatch(s.Model, e), images: make([]float32, c*P),
		x: make([]float32, c*P), rep: make([]int, c*len(s.Grid.Temperatures))}
	for range s.Grid.Temperatures {
		w.grads = append(w.grads, make([]float32, c*P))
	}
	return w
}

// microBatch scores images first+p for p in pos into position p of out.
func (s *GridScorer) microBatch(ctx context.Context, w *gridWork, ds dataset.Dataset, first int, pos []int, out *GridScores, report func(int)) error {
	P := s.pixels()
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
		if !s.needsGradient(t) {
			continue
		}
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
			if !s.needsGradient(t) {
				w.rep[i*nT+t] = -1
				continue
			}
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
				if m > 0 && s.jobNeeded(w.rep[i*nT:(i+1)*nT], t, e) {
					w.jobs = append(w.jobs, gridJob{i, t, e})
				}
			}
		}
	}
	planned := s.Passes(n) - n
	for t := range nT {
		if s.needsGradient(t) {
			planned -= n
		}
	}
	capacity := min(b.Exec.Cap(), len(w.x)/P) // w.x holds the images in flight, not a full Exec
	for start := 0; start < len(w.jobs); start += capacity {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := w.jobs[start:min(len(w.jobs), start+capacity)]
		for j, jb := range chunk {
			ood.PerturbImages(w.x[j*P:(j+1)*P], b.Input[jb.i*P:(jb.i+1)*P], w.grads[jb.t][jb.i*P:(jb.i+1)*P], mags[jb.e], s.Model.Std, 1, s.Model.Graph.Input())
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

// jobNeeded reports whether the perturbed copy along temperature t's gradient at magnitude e
// gives the score of an active cell: of t or of a temperature sharing t's signs (rep is one
// image's row of gridWork.rep).
func (s *GridScorer) jobNeeded(rep []int, t, e int) bool {
	nE := len(s.Grid.Magnitudes)
	for u, r := range rep {
		if r == t && s.isActive(u*nE+e) {
			return true
		}
	}
	return false
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
