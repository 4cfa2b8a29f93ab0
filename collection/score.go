package collection

import (
	"bytes"
	"context"
	"fmt"
	"image"
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
	// Transform, if set, is how images become the network's input (resize of the shorter side,
	// centre crop; a Preprocess's Transform): they must come out at the network's H×W. Without
	// it a 32×32 network's images are brought to 32×32 by Resize (the zero value refuses other
	// sizes), and other networks take images at exactly their H×W (Config.Load sets Transform
	// for them: experiment.Network.Transform). An image that does not fit gets a row carrying
	// the error.
	Transform *dataset.Transform
	Resize    dataset.ResizeMode
	// Decide, if set, turns an image's scores into a decision ("in" or "out").
	Decide func(scores []float64) string
	// Notes are what loading the network changed that the user should be told once (Config.Load
	// copies experiment.Network.Notes: an ONNX model's removed final Softmax).
	Notes []string

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
		wk = &worker{batch: ood.NewBatch(s.Model, e), pixels: make([]float32, b*s.Model.Graph.Input().Size()), col: make([]float64, b)}
		s.workers[w] = wk
	}
	reader := s.Reader
	if reader == nil {
		reader = &Fetcher{}
	}
	wk.ok = wk.ok[:0]
	size := s.Model.Graph.Input().Size()
	for i, p := range paths {
		rows[i] = Row{Path: p, Class: -1}
		dst := wk.pixels[len(wk.ok)*size : (len(wk.ok)+1)*size]
		data, err := reader.Read(ctx, p)
		if err == nil {
			err = s.decode(p, data, dst)
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
		rows[i].Class = ood.Argmax(wk.batch.Logits[j*k : (j+1)*k])
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

// maxResized bounds the pixels of an image after its resize and before its crop: a resize keeps
// the aspect ratio, so a thin image grows far beyond the size its file declares.
const maxResized = 4096 * 4096

// decode decodes one image into dst at the network's size (see Transform).
func (s *Scorer) decode(name string, data []byte, dst []float32) error {
	in := s.Model.Graph.Input()
	if s.Transform == nil && in.H == dataset.Side && in.W == dataset.Side {
		return dataset.DecodeImage(name, data, s.Resize, dst)
	}
	var t dataset.Transform
	if s.Transform != nil {
		t = *s.Transform
	}
	c, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: not a readable PNG or JPEG image: %v", name, err)
	}
	if c.Width < 1 || c.Height < 1 {
		return fmt.Errorf("%s: image is %d×%d", name, c.Width, c.Height)
	}
	if t.Resize > 0 {
		if w, h := (dataset.Transform{Resize: t.Resize}).Size(c.Width, c.Height); w > maxResized/h {
			return fmt.Errorf("%s: image %d×%d resizes to %d×%d, more than %d pixels", name, c.Width, c.Height, w, h, maxResized)
		}
	}
	if w, h := t.Size(c.Width, c.Height); w != in.W || h != in.H {
		if s.Transform == nil {
			return fmt.Errorf("%s: image is %d×%d, the network takes %d×%d and no preprocessing resizes it", name, c.Width, c.Height, in.W, in.H)
		}
		return fmt.Errorf("%s: image %d×%d becomes %d×%d after preprocessing, the network takes %d×%d", name, c.Width, c.Height, w, h, in.W, in.H)
	}
	_, _, err = dataset.DecodeTransformed(name, data, t, dst)
	return err
}
