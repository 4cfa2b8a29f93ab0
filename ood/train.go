package ood

import (
	"context"
	"fmt"
	"sync"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// Train is what fitting needs from in-distribution training images, read off one forward pass:
// their penultimate features, logits and labels, and the network's final linear layer.
type Train struct {
	// Name describes the images, e.g. "CIFAR-10 data_batch_1.bin"; it is recorded in Stats.
	Name string
	// N images, D features and K classes.
	N, D, K int
	// Features holds N×D penultimate features (after global pooling), image by image.
	Features []float32
	// Logits holds N×K logits.
	Logits []float32
	// Labels holds N class labels; -1 where the set has none (fitting then uses the
	// network's prediction, see Train.Label).
	Labels []int
	// Weight (K×D, row-major) and Bias (K) of the final linear layer: logits = Weight·h + Bias.
	Weight, Bias []float32
}

// Label returns the class of training image i: its label if it has one in [0, K), otherwise the
// network's predicted class.
func (t *Train) Label(i int) int {
	if i < len(t.Labels) && t.Labels[i] >= 0 && t.Labels[i] < t.K {
		return t.Labels[i]
	}
	return Argmax(t.Logits[i*t.K : (i+1)*t.K])
}

// check validates the sizes of t's slices.
func (t *Train) check() error {
	switch {
	case t.N < 1 || t.D < 1 || t.K < 1:
		return fmt.Errorf("training features of %s: %d images, %d features, %d classes", t.Name, t.N, t.D, t.K)
	case len(t.Features) != t.N*t.D:
		return fmt.Errorf("training features of %s: %d values for %d×%d", t.Name, len(t.Features), t.N, t.D)
	case len(t.Logits) != t.N*t.K:
		return fmt.Errorf("training logits of %s: %d values for %d×%d", t.Name, len(t.Logits), t.N, t.K)
	case len(t.Weight) != t.K*t.D || len(t.Bias) != t.K:
		return fmt.Errorf("final layer: %d weights and %d biases for %d×%d", len(t.Weight), len(t.Bias), t.K, t.D)
	}
	return nil
}

// Extract runs the network on images 0 … count−1 of ds (all of them if count is 0) on workers
// goroutines with micro-batches of batch images, and collects what fitting needs. progress, if not
// nil, is told the number of images done, from one goroutine at a time.
func Extract(ctx context.Context, m *models.Model, ds dataset.Dataset, count, workers, batch int, progress func(done int)) (*Train, error) {
	if count == 0 {
		count = ds.Len()
	}
	if count < 0 || count > ds.Len() {
		return nil, fmt.Errorf("%s: %d training images requested, the set has %d", ds.Name(), count, ds.Len())
	}
	d := featureDim(m)
	if d == 0 {
		return nil, fmt.Errorf("network %s has no \"features\" tap to fit statistics on", m.Name)
	}
	w, bias, ok := m.Graph.Linear()
	if !ok {
		return nil, fmt.Errorf("network %s does not end in a linear layer", m.Name)
	}
	k := m.Classes()
	t := &Train{Name: ds.Name(), N: count, D: d, K: k,
		Features: make([]float32, count*d), Logits: make([]float32, count*k), Labels: make([]int, count),
		Weight: w, Bias: bias}
	pool := nn.NewPool(m.Graph, workers, batch)
	if err := nn.CheckWorkers(pool.Workers()); err != nil {
		return nil, err
	}
	if err := nn.CheckBatch(pool.Batch()); err != nil {
		return nil, err
	}
	P := dataset.PixelsOf(ds)
	if P != m.Graph.Input().Size() {
		return nil, fmt.Errorf("%s: images of %d values, network %s takes %v", ds.Name(), P, m.Name, m.Graph.Input())
	}
	imgs := make([][]float32, pool.Workers())
	norm := make([][]float32, pool.Workers())
	var mu sync.Mutex
	done := 0
	err := pool.Run(ctx, count, func(e *nn.Exec, wk, lo, hi int) error {
		n := hi - lo
		if imgs[wk] == nil { // sized by the images in flight, not the batch size
			imgs[wk] = make([]float32, min(pool.Batch(), count)*P)
			norm[wk] = make([]float32, min(pool.Batch(), count)*P)
		}
		x := imgs[wk]
		for i := range n {
			label, err := ds.Image(lo+i, x[i*P:(i+1)*P])
			if err != nil {
				return err
			}
			t.Labels[lo+i] = label
		}
		m.Normalize(norm[wk], x, n)
		if err := e.Forward(norm[wk], n); err != nil {
			return err
		}
		e.Logits(t.Logits[lo*k : hi*k])
		if _, err := e.Tap("features", t.Features[lo*d:hi*d]); err != nil {
			return err
		}
		if progress != nil {
			mu.Lock()
			done += n
			progress(done)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
