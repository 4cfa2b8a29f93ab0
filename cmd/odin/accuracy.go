package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/nn"
)

func init() {
	register("accuracy", "classification accuracy of a network on its in-distribution test set", cmdAccuracy)
}

func cmdAccuracy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("accuracy")
	var nf netFlags
	nf.register(fs, "densenet10", 8)
	first := fs.Int("first", 0, "index of the first test image")
	count := fs.Int("count", 0, "number of test images (default: all from --first on)")
	inSet := fs.String("in_dataset", "", "test set (default: the network's, cifar10 or cifar100)")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *first < 0 || *count < 0 {
		return usageError("--first and --count must not be negative")
	}
	m, known, err := nf.load()
	if err != nil {
		return err
	}
	if *inSet == "" {
		*inSet = known.InSet
	}
	if *inSet == "" {
		return usageError("%s has %d classes and no known test set: pass --in_dataset", nf.nn, m.Classes())
	}
	ds, err := dataset.Open(*inSet, dataset.Options{Data: datadir.Data(nf.data)})
	if err != nil {
		return err
	}
	lo, n, err := span(ds.Len(), *first, *count)
	if err != nil {
		return err
	}
	k := m.Classes()
	pool := nn.NewPool(m.Graph, nf.workers, nf.batch)
	var correct atomic.Int64
	imgs := make([][]float32, nf.workers)
	logits := make([][]float32, nf.workers)
	err = pool.Run(ctx, n, func(e *nn.Exec, w, a, b int) error {
		if imgs[w] == nil {
			imgs[w] = make([]float32, min(nf.batch, n)*dataset.Pixels) // the images in flight
		}
		x := imgs[w]
		labels := make([]int, 0, b-a)
		for i := a; i < b; i++ {
			l, err := ds.Image(lo+i, x[(i-a)*dataset.Pixels:])
			if err != nil {
				return err
			}
			labels = append(labels, l)
		}
		m.Normalize(x, x, b-a)
		if err := e.Forward(x, b-a); err != nil {
			return err
		}
		logits[w] = e.Logits(logits[w])
		for i, l := range labels {
			f := logits[w][i*k : (i+1)*k]
			best := 0
			for j, v := range f {
				if v > f[best] {
					best = j
				}
			}
			if best == l {
				correct.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c := correct.Load()
	fmt.Fprintf(stdout, "accuracy %.2f%% (%d/%d)\n", 100*float64(c)/float64(n), c, n)
	return nil
}

// span checks --first/--count against a set of size total; count 0 means all the rest.
func span(total, first, count int) (lo, n int, err error) {
	if first >= total {
		return 0, 0, usageError("--first %d is past the end of a set of %d images", first, total)
	}
	n = total - first
	if count > 0 {
		if first+count > total {
			return 0, 0, usageError("--first %d --count %d runs past the end of a set of %d images", first, count, total)
		}
		n = count
	}
	return first, n, nil
}
