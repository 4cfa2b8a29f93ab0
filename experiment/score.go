package experiment

import (
	"context"
	"fmt"
	"sync"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// Sink receives score rows in index order as they are computed, e.g. a score file.
type Sink interface {
	Write(index int, values []float64) error
	Flush() error
}

// Scorer scores images with several detectors in one pass per micro-batch: the forward pass of
// each image is shared by all detectors. It keeps its workers' buffers between calls.
type Scorer struct {
	Model     *models.Model
	Detectors []ood.Detector
	pool      *nn.Pool
	batches   []*ood.Batch
	images    [][]float32
	column    [][]float64
}

// NewScorer makes a scorer with the given workers and micro-batch size.
func NewScorer(m *models.Model, detectors []ood.Detector, workers, batch int) *Scorer {
	p := nn.NewPool(m.Graph, workers, batch)
	return &Scorer{Model: m, Detectors: detectors, pool: p,
		batches: make([]*ood.Batch, p.Workers()), images: make([][]float32, p.Workers()),
		column: make([][]float64, p.Workers())}
}

// Pool is the worker pool the scorer runs on.
func (s *Scorer) Pool() *nn.Pool { return s.pool }

// Score scores images first … first+count−1 of ds. It returns scores[d][i] for detector d and
// image first+i. Rows go to sink (if not nil) in index order, flushed after each micro-batch
// that completes the ordered prefix, so an interruption keeps every row written. progress (if
// not nil) is called with the number of images done, from one goroutine at a time.
func (s *Scorer) Score(ctx context.Context, ds dataset.Dataset, first, count int, sink Sink, progress func(done int)) ([][]float64, error) {
	if first < 0 || count < 0 || first+count > ds.Len() {
		return nil, fmt.Errorf("%s: images %d to %d requested, the set has %d", ds.Name(), first, first+count-1, ds.Len())
	}
	if err := CheckImages(s.Model, ds); err != nil {
		return nil, err
	}
	P := s.Model.Graph.Input().Size()
	nd := len(s.Detectors)
	scores := make([][]float64, nd)
	for d := range scores {
		scores[d] = make([]float64, count)
	}
	batch := s.pool.Batch()
	var (
		mu      sync.Mutex
		ready   = make([]bool, (count+batch-1)/batch)
		written int // micro-batches written to sink, in order
		done    int
		row     = make([]float64, nd)
	)
	err := s.pool.Run(ctx, count, func(e *nn.Exec, w, lo, hi int) error {
		n := hi - lo
		if s.batches[w] == nil {
			s.batches[w] = ood.NewBatch(s.Model, e)
		}
		if len(s.column[w]) < n { // sized by the images in flight, not the batch size
			s.images[w] = make([]float32, n*P)
			s.column[w] = make([]float64, n)
		}
		b, x := s.batches[w], s.images[w]
		for i := range n {
			if _, err := ds.Image(first+lo+i, x[i*P:(i+1)*P]); err != nil {
				return err
			}
		}
		if err := b.Load(x, n); err != nil {
			return err
		}
		for d, det := range s.Detectors {
			col := s.column[w][:n]
			if err := det.Score(ctx, b, col); err != nil {
				return fmt.Errorf("%s: %w", det.Name(), err)
			}
			copy(scores[d][lo:hi], col)
		}
		mu.Lock()
		defer mu.Unlock()
		ready[lo/batch] = true
		done += n
		if progress != nil {
			progress(done)
		}
		if sink == nil {
			return nil
		}
		flush := false
		for written < len(ready) && ready[written] {
			for i := written * batch; i < min(count, (written+1)*batch); i++ {
				for d := range nd {
					row[d] = scores[d][i]
				}
				if err := sink.Write(first+i, row); err != nil {
					return err
				}
			}
			written++
			flush = true
		}
		if flush {
			return sink.Flush()
		}
		return nil
	})
	return scores, err
}
