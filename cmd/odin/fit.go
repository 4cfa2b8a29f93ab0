package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

func init() {
	register("fit", "fit the training-set statistics of detectors that need them ("+strings.Join(ood.FittedNames(), ", ")+")", cmdFit)
}

func cmdFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fit")
	var nf netFlags
	nf.register(fs, "densenet10", 16)
	nf.registerPrep(fs)
	method := fs.String("method", "knn,mahalanobis,react,vim", "detectors to fit, comma-separated: "+strings.Join(ood.FittedNames(), ", ")+" (mahalanobis_pre uses mahalanobis's statistics)")
	train := fs.String("train", "", "training images: a CIFAR-10 or CIFAR-100 binary file (by the network's class count), a folder of 32×32 images, or folder:PATH (an ImageNet-style folder, labelled by its class folders) (default <data>/cifar-10-batches-bin/data_batch_1.bin for CIFAR-10 networks, <data>/cifar-100-binary/train.bin for CIFAR-100 ones)")
	stats := fs.String("stats", "", "statistics file to write (default <cache>/stats/<nn>.stats)")
	cache := fs.String("cache", "", "cache folder (default $ODIN_CACHE, else the user cache folder)")
	count := fs.Int("count", 0, "use only the first N training images (default all)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *count < 0 {
		return usageError("--count must not be negative, got %d", *count)
	}
	names, err := ood.SplitMethods(*method)
	if err != nil {
		return usageError("--method: %v", err)
	}
	for _, n := range names {
		if !slices.Contains(ood.FittedNames(), n) {
			return usageError("--method: %s needs no fitting (methods that fit: %s)", n, strings.Join(ood.FittedNames(), ", "))
		}
	}
	net, err := nf.network(stderr)
	if err != nil {
		return err
	}
	m := net.Model
	ds, err := openTrain(*train, datadir.Data(nf.data), models.Known{Name: filepath.Base(nf.nn), InSet: net.InSet}, net)
	if err != nil {
		return err
	}
	if err := experiment.CheckImages(m, ds); err != nil {
		return adviseImages(err)
	}
	path, err := statsPath(*stats, *cache, nf.nn)
	if err != nil {
		return err
	}
	n := ds.Len()
	if *count > 0 {
		if *count > n {
			return usageError("--count %d: %s has only %d images", *count, ds.Name(), n)
		}
		n = *count
	}
	old, err := ood.ReadStats(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "replacing unreadable %v\n", err)
	}
	bar := progress.New(stderr, "features", n, *quiet)
	opt := experiment.FitOptions{Workers: nf.workers, Batch: nf.batch, Old: old, Progress: bar.Set,
		Step: func(step string, took time.Duration) {
			if step == "features" {
				bar.Finish()
				fmt.Fprintf(stderr, "features of %d images of %s in %.1fs\n", n, ds.Name(), took.Seconds())
				return
			}
			fmt.Fprintf(stderr, "fitted %s in %.1fs\n", step, took.Seconds())
		}}
	s, kept, err := experiment.FitStats(ctx, net, ds, n, names, opt)
	if err != nil {
		return err
	}
	if old != nil && !kept {
		other := ""
		if old.Tap != s.Tap || old.Preprocess != s.Preprocess {
			other = ", other features or preprocessing"
		}
		fmt.Fprintf(stderr, "replacing %s (fitted on %s, %d images of %s%s)\n", path, old.NN, old.Images, old.Train, other)
	}
	if err := s.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: statistics of %s for %s (%s, %d features, %d classes) from %d images of %s%s\n",
		path, strings.Join(s.Methods, ", "), nf.nn, m.Name, s.Features, s.Classes, s.Images, s.Train, fittedWith(s))
	return nil
}

// fittedWith says which feature tap and preprocessing statistics were fitted with, when not the
// defaults (the statistics file records them, and readers refuse others).
func fittedWith(s *ood.Stats) string {
	var b strings.Builder
	if s.Tap != "" {
		fmt.Fprintf(&b, ", features %s", s.Tap)
	}
	if s.Preprocess != "" {
		fmt.Fprintf(&b, ", preprocessing %s", s.Preprocess)
	}
	return b.String()
}

// openTrain opens --train: a folder of images, or a CIFAR binary file read as CIFAR-100 for a
// network of 100 classes and as CIFAR-10 otherwise; "" is the in-distribution training file.
func openTrain(path, data string, known models.Known, net *experiment.Network) (dataset.Dataset, error) {
	if p, ok := strings.CutPrefix(path, dataset.FolderPrefix); ok {
		return dataset.OpenImageFolder(p, net.Transform())
	}
	if path == "" {
		switch known.InSet {
		case "cifar10":
			path = filepath.Join(data, "cifar-10-batches-bin", "data_batch_1.bin")
		case "cifar100":
			path = filepath.Join(data, "cifar-100-binary", "train.bin")
		default:
			return nil, usageError("no default training set for %s: pass --train", known.Name)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("training set %s not found: pass --train (a CIFAR binary file or a folder of 32×32 images) or --data", path)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("training set %s not found", path)
	}
	if st.IsDir() {
		return dataset.OpenFolder(path, dataset.FolderOptions{})
	}
	if net.Model.Classes() == 100 {
		return dataset.OpenCIFAR100(path)
	}
	return dataset.OpenCIFAR10(path)
}
