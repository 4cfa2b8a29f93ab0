package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
)

func init() {
	register("accuracy", "classification accuracy of a network on its in-distribution test set", cmdAccuracy)
}

func cmdAccuracy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("accuracy")
	var nf netFlags
	nf.register(fs, "densenet10", 8)
	nf.registerPrep(fs)
	first := fs.Int("first", 0, "index of the first test image")
	count := fs.Int("count", 0, "number of test images (default: all from --first on)")
	inSet := fs.String("in_dataset", "", "test set (default: the network's, cifar10 or cifar100), or folder:PATH (an ImageNet-style folder <PATH>/<class>/*.JPEG, labelled by its sorted class folders)")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *first < 0 || *count < 0 {
		return usageError("--first and --count must not be negative")
	}
	net, err := nf.network(stderr)
	if err != nil {
		return err
	}
	name, err := nf.inSet(*inSet, net)
	if err != nil {
		return err
	}
	ds, err := nf.openSet(ctx, name, dataset.Options{Data: datadir.Data(nf.data)})
	if err != nil {
		return err
	}
	lo, n, err := span(ds.Len(), *first, *count)
	if err != nil {
		return err
	}
	c, err := experiment.Accuracy(ctx, net, experiment.Range{Data: ds, First: lo, Count: n}, nf.workers, nf.batch)
	if errors.Is(err, experiment.ErrNoLabels) {
		return fmt.Errorf("%w: accuracy needs a labelled set (a CIFAR set, or folder:PATH with class sub-folders)", err)
	}
	if err != nil {
		return err
	}
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
