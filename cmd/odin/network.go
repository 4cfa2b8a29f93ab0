package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// netFlags are the flags every command that runs a network shares.
type netFlags struct {
	nn, arch, data string
	workers, batch int
	prep           prepFlags           // --preprocess and friends, once registerPrep has run
	net            *experiment.Network // once load has run
}

// registerPrep adds the preprocessing and ONNX flags (prepFlags) for commands that read images.
func (f *netFlags) registerPrep(fs *flag.FlagSet) { f.prep.register(fs) }

func (f *netFlags) register(fs *flag.FlagSet, defaultNN string, defaultBatch int) {
	fs.StringVar(&f.nn, "nn", defaultNN, "network: one of "+joinNames(models.KnownNames())+", or a checkpoint file")
	fs.StringVar(&f.arch, "arch", "", "architecture of a checkpoint file: "+joinNames(models.Archs())+" (default: inferred from its tensors)")
	fs.StringVar(&f.data, "data", "", "data folder (default $ODIN_DATA, else ./data)")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), fmt.Sprintf("worker goroutines (at most %d)", nn.MaxWorkers))
	fs.IntVar(&f.batch, "batch", defaultBatch, fmt.Sprintf("images per micro-batch on each worker (at most %d)", nn.MaxBatch))
}

func (f *netFlags) check() error {
	return checkPool(f.workers, f.batch)
}

// load resolves --nn, builds the model and digests its checkpoint (experiment.LoadNetwork).
// known.InSet is the network's in-distribution set, from the class count for a checkpoint given
// by path.
func (f *netFlags) load(stderr io.Writer) (*models.Model, models.Known, error) {
	net, err := f.network(stderr)
	if err != nil {
		return nil, models.Known{}, err
	}
	return net.Model, models.Known{Name: filepath.Base(f.nn), InSet: net.InSet, Classes: net.Model.Classes()}, nil
}

// network is load's experiment.Network (experiment.LoadNetworkWith, with the preprocessing and
// ONNX flags if registered); it prints the network's notes to stderr. Its InSet is empty when
// the in-distribution set is unknown (an ImageNet model, say): commands that need one call inSet.
func (f *netFlags) network(stderr io.Writer) (*experiment.Network, error) {
	opt := experiment.LoadOptions{Arch: f.arch, Data: datadir.Data(f.data)}
	if err := f.prep.options(&opt); err != nil {
		return nil, err
	}
	net, err := experiment.LoadNetworkWith(f.nn, opt)
	if err != nil {
		return nil, err
	}
	printNotes(stderr, net)
	f.net = net
	return net, nil
}

// openSet opens a set by name for the loaded network (experiment.OpenSet): folder:PATH sets
// with its transform, and a set whose images are not of its size refused.
func (f *netFlags) openSet(ctx context.Context, name string, opt dataset.Options) (dataset.Dataset, error) {
	ds, err := experiment.OpenSet(ctx, f.net, name, opt)
	return ds, adviseImages(err)
}

// inSet is the in-distribution set: flag (--in_dataset) if given, else the network's own.
func (f *netFlags) inSet(flag string, net *experiment.Network) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case net.InSet == "":
		return "", usageError("%s has %d classes and no known test set: pass --in_dataset", f.nn, net.Model.Classes())
	}
	return net.InSet, nil
}

func joinNames(s []string) string {
	out := ""
	for i, n := range s {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
