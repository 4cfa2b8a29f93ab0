package collection

import (
	"context"
	"fmt"
	"sync"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// Scorer reads, decodes and scores images by path with several detectors in one pass per
// micro-batch. Scores do not depend on the worker count, the micro-batch size or which images
// share a micro-batch (package nn's guarantee), so every split of a collection gives the same
// scores. A Scorer keeps its workers' buffers between calls; it is not safe for concurrent calls.
type Scorer struct {
	Model     *models.Model
	Detectors []ood.Detector
	// Reader reads an input's bytes; nil means a Fetcher with its defaults.
	Reader Reader
	// Resize brings images that are not 32×32 to 32×32; the zero value refuses them (the row of
	// such an image carries the error).
	Resize dataset.ResizeMode
	// Decide, if set, turns an image's scores into a decision ("in" or "out").
	Decide func(scores []float64) string

	pool    *nn.Pool
	workers []*worker
}

type worker struct {
	batch  *ood.Batch
	pixels []float32
	col    []float64
	ok     []int // positions in the micro-batch of the images that decoded
}

// NewScorer makes a scorer with the given number of workers and micro-batch size.
func NewScorer(m *models.Model, detectors []ood.Detector, workers, batch int) *Scorer {
	p := nn.NewPool(m.Graph, workers, batch)
	return &Scorer{Model: m, Detectors: detectors, pool: p, workers: make([]*worker, p.Workers())}
}

// Columns are the score columns: the detectors' names, with msp named "baseline" as in odin
// eval's score files.
func (s *Scorer) Columns() []string {
	c := make([]string, len(s.Detectors))
	for i, d := range s.Detectors {
		c[i] = d.Name()
		if c[i] == "msp" {
			c[i] = "baseline"
		}
	}
	return c
}

// Score scores the images at paths. emit receives the rows in the order of paths, a
// micro-batch or more at a time, from one goroutine at a time; an error it returns stops the
// run. An image that cannot be read or decoded gets a row with Err set, and the run goes on.
func (s *Scorer) Score(ctx context.Context, paths []string, emit func([]Row) error) error {
	rows := make([]Row, len(paths))
	batch := s.pool.Batch()
	var (
		mu      sync.Mutex
		ready   = make([]bool, (len(paths)+batch-1)/batch)
		written int
	)
	return s.pool.Run(ctx, len(paths), func(e *nn.Exec, w, lo, hi int) error {
		if err := s.scoreBatch(ctx, e, w, paths[lo:hi], rows[lo:hi]); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		ready[lo/batch] = true
		from := written
		for written < len(ready) && ready[written] {
			written++
		}
		if written == from {
			return nil
		}
		return emit(rows[from*batch : min(len(rows), written*batch)])
	})
}

// scoreBatch fills rows for the images at paths, on worker w.
func (s *Scorer) scoreBatch(ctx context.Context, e *nn.Exec, w int, paths []string, rows []Row) error {
	wk := s.workers[w]
	if wk == nil {
		b := s.pool.Batch()
		wk = &worker{batch: ood.NewBatch(s.Model, e), pixels: make([]float32, b*dataset.Pixels), col: make([]float64, b)}
		s.workers[w] = wk
	}
	reader := s.Reader
	if reader == nil {
		reader = &Fetcher{}
	}
	wk.ok = wk.ok[:0]
	for i, p := range paths {
		rows[i] = Row{Path: p, Class: -1}
		dst := wk.pixels[len(wk.ok)*dataset.Pixels : (len(wk.ok)+1)*dataset.Pixels]
		data, err := reader.Read(ctx, p)
		if err == nil {
			err = dataset.DecodeImage(p, data, s.Resize, dst)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rows[i].Err = err.Error()
			continue
		}
		wk.ok = append(wk.ok, i)
	}
	n := len(wk.ok)
	if n == 0 {
		return nil
	}
	if err := wk.batch.Load(wk.pixels, n); err != nil {
		return err
	}
	k := wk.batch.Classes()
	for j, i := range wk.ok {
		rows[i].Scores = make([]float64, len(s.Detectors))
		rows[i].Class = argmax(wk.batch.Logits[j*k : (j+1)*k])
	}
	for d, det := range s.Detectors {
		col := wk.col[:n]
		if err := det.Score(ctx, wk.batch, col); err != nil {
			return fmt.Errorf("%s: %w", det.Name(), err)
		}
		for j, i := range wk.ok {
			rows[i].Scores[d] = col[j]
		}
	}
	if s.Decide != nil {
		for _, i := range wk.ok {
			rows[i].Decision = s.Decide(rows[i].Scores)
		}
	}
	return nil
}

// argmax returns the index of the largest value, the first on ties (as torch.argmax).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
