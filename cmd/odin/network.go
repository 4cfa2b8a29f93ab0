package main

import (
	"flag"
	"fmt"
	"runtime"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
)

// netFlags are the flags every command that runs a network shares.
type netFlags struct {
	nn, arch, data string
	path           string // the checkpoint file, once load has resolved --nn
	digest         string // its identity in cache keys, once computed (see checkpointIdentity)
	workers, batch int
}

func (f *netFlags) register(fs *flag.FlagSet, defaultNN string, defaultBatch int) {
	fs.StringVar(&f.nn, "nn", defaultNN, "network: one of "+joinNames(models.KnownNames())+", or a checkpoint file")
	fs.StringVar(&f.arch, "arch", "", "architecture of a checkpoint file: densenet, wideresnet or resnet (default: inferred from its tensors)")
	fs.StringVar(&f.data, "data", "", "data folder (default $ODIN_DATA, else ./data)")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "worker goroutines")
	fs.IntVar(&f.batch, "batch", defaultBatch, "images per micro-batch on each worker")
}

func (f *netFlags) check() error {
	if f.workers < 1 {
		return usageError("--workers must be at least 1, got %d", f.workers)
	}
	if f.batch < 1 {
		return usageError("--batch must be at least 1, got %d", f.batch)
	}
	return nil
}

// load resolves --nn and builds the model. known.InSet is filled in from the class count for a
// checkpoint given by path.
func (f *netFlags) load() (*models.Model, models.Known, error) {
	path, known, err := models.Resolve(f.nn, datadir.Data(f.data))
	if err != nil {
		return nil, known, err
	}
	arch := f.arch
	if arch == "" {
		arch = known.Arch
	}
	m, err := models.Load(path, arch)
	if err != nil {
		return nil, known, err
	}
	if known.InSet == "" {
		switch m.Classes() {
		case 10:
			known.InSet = "cifar10"
		case 100:
			known.InSet = "cifar100"
		default:
			return nil, known, fmt.Errorf("%s has %d classes: pass --in_dataset", f.nn, m.Classes())
		}
	}
	f.path, f.digest = path, ""
	return m, known, nil
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
