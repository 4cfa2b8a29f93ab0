package experiment

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// ErrNoLabels marks a set whose images carry no class labels.
var ErrNoLabels = errors.New("no class labels")

// Accuracy classifies the images of r with net on workers × batch and returns how many the
// network's top class gets right. Every image must be labelled: a CIFAR set or an ImageNet-style
// folder (dataset.FolderPrefix), with labels in [0, classes).
func Accuracy(ctx context.Context, net *Network, r Range, workers, batch int) (correct int, err error) {
	m := net.Model
	if err := CheckImages(m, r.Data); err != nil {
		return 0, err
	}
	P, k := m.Graph.Input().Size(), m.Classes()
	pool := nn.NewPool(m.Graph, workers, batch)
	if err := nn.CheckWorkers(pool.Workers()); err != nil {
		return 0, err
	}
	var right atomic.Int64
	imgs := make([][]float32, pool.Workers())
	logits := make([][]float32, pool.Workers())
	err = pool.Run(ctx, r.Count, func(e *nn.Exec, w, a, b int) error {
		if imgs[w] == nil {
			imgs[w] = make([]float32, min(pool.Batch(), r.Count)*P) // the images in flight
		}
		x := imgs[w]
		labels := make([]int, 0, b-a)
		for i := a; i < b; i++ {
			l, err := r.Data.Image(r.First+i, x[(i-a)*P:(i-a+1)*P])
			if err != nil {
				return err
			}
			switch {
			case l < 0:
				return fmt.Errorf("%s image %d: %w", r.Data.Name(), r.First+i, ErrNoLabels)
			case l >= k:
				return fmt.Errorf("%s image %d: label %d, the network has %d classes", r.Data.Name(), r.First+i, l, k)
			}
			labels = append(labels, l)
		}
		m.Normalize(x, x, b-a)
		if err := e.Forward(x, b-a); err != nil {
			return err
		}
		logits[w] = e.Logits(logits[w])
		for i, l := range labels {
			if ood.Argmax(logits[w][i*k:(i+1)*k]) == l {
				right.Add(1)
			}
		}
		return nil
	})
	return int(right.Load()), err
}
