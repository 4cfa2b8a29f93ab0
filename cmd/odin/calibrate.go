package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
)

func init() {
	register("calibrate", "store ODIN's parameters and the score threshold that accepts a given share of in-distribution images", cmdCalibrate)
}

// calibrateFlags are the flags of odin calibrate.
type calibrateFlags struct {
	netFlags
	in, fromTune, out           string
	tpr, temperature, magnitude float64
	first, count                int
	asJSON, quiet               bool
	given                       map[string]bool
}

func cmdCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f calibrateFlags
	if err := f.parse(args, stdout); err != nil {
		return err
	}
	if err := f.params(); err != nil {
		return err
	}
	net, err := f.network(stderr)
	if err != nil {
		return err
	}
	inName, err := f.inSet(f.in, net)
	if err != nil {
		return err
	}
	ds, err := f.openSet(ctx, inName, dataset.Options{Data: datadir.Data(f.data), Count: f.first + f.count})
	if err != nil {
		return err
	}
	r, err := heldOut(ds, f.first, f.count)
	if err != nil {
		return err
	}
	bar := progress.New(stderr, inName, f.count, f.quiet)
	th, err := experiment.CalibrateODIN(ctx, net, r, inName, f.temperature, f.magnitude, f.tpr, f.workers, f.batch, bar.Set)
	if err != nil {
		return err
	}
	bar.Finish()
	if err := th.Save(f.out); err != nil {
		return err
	}
	if f.asJSON {
		return json.NewEncoder(stdout).Encode(th)
	}
	_, err = fmt.Fprintf(stdout, "threshold %s (T = %s, ε = %s) accepts %d of %d held-out %s images (%.1f%%, asked %.1f%%); written to %s\n",
		fmtF(th.Delta), fmtF(th.Temperature), fmtF(th.Magnitude), int(th.Accepted*float64(f.count)+0.5), f.count, displayName(inName),
		100*th.Accepted, 100*f.tpr, f.out)
	return err
}

// parse registers, parses and checks the flags.
func (f *calibrateFlags) parse(args []string, stdout io.Writer) error {
	fs := newFlags("calibrate")
	f.netFlags.register(fs, "densenet10", 8)
	f.registerPrep(fs)
	fs.StringVar(&f.in, "in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100), or folder:PATH (an ImageNet-style folder)")
	fs.Float64Var(&f.tpr, "tpr", 0.95, "share of held-out in-distribution images to accept, in (0, 1]")
	fs.Float64Var(&f.temperature, "temperature", 1000, "ODIN temperature T")
	fs.Float64Var(&f.magnitude, "magnitude", 0.0014, "ODIN perturbation magnitude ε")
	fs.StringVar(&f.fromTune, "from-tune", "", "take T and ε from this file holding the output of odin tune --json")
	fs.IntVar(&f.first, "first", 0, "first held-out in-distribution image")
	fs.IntVar(&f.count, "count", 1000, "held-out in-distribution images")
	fs.StringVar(&f.out, "out", "", "threshold file to write (JSON)")
	fs.BoolVar(&f.asJSON, "json", false, "print the threshold file's contents instead of a summary")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if err := f.netFlags.check(); err != nil {
		return err
	}
	switch {
	case f.out == "":
		return usageError("--out FILE is required: where to write the threshold")
	case !(f.tpr > 0 && f.tpr <= 1):
		return usageError("--tpr must be in (0, 1], got %g", f.tpr)
	case f.first < 0:
		return usageError("--first must not be negative, got %d", f.first)
	case f.count < 1:
		return usageError("--count must be positive, got %d", f.count)
	case f.fromTune != "" && (f.given["temperature"] || f.given["magnitude"]):
		return usageError("--from-tune gives T and ε: drop --temperature and --magnitude")
	}
	return nil
}

// params takes T, ε (and the network, unless --nn is given) from --from-tune, and checks T and ε.
func (f *calibrateFlags) params() error {
	if f.fromTune != "" {
		tunedNN, t, eps, err := readTuneJSON(f.fromTune)
		if err != nil {
			return err
		}
		if tunedNN != "" && f.given["nn"] && tunedNN != f.nn {
			return usageError("--from-tune %s was tuned for --nn %s, not %s", f.fromTune, tunedNN, f.nn)
		}
		if tunedNN != "" && !f.given["nn"] {
			f.nn = tunedNN
		}
		f.temperature, f.magnitude = t, eps
	}
	return checkODINFlags(f.temperature, f.magnitude)
}

// tuneResult is the part of odin tune --json that calibrate reads.
type tuneResult struct {
	NN          string   `json:"nn"`
	Temperature *float64 `json:"temperature"`
	Magnitude   *float64 `json:"magnitude"`
}

// readTuneJSON reads the first object of a file written from odin tune --json.
func readTuneJSON(path string) (nn string, temperature, magnitude float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, 0, err
	}
	defer f.Close()
	var t tuneResult
	if err := json.NewDecoder(f).Decode(&t); err != nil {
		return "", 0, 0, fmt.Errorf("tune result %s: %v", path, err)
	}
	if t.Temperature == nil || t.Magnitude == nil {
		return "", 0, 0, fmt.Errorf("tune result %s: no temperature and magnitude (want the output of odin tune --json)", path)
	}
	return t.NN, *t.Temperature, *t.Magnitude, nil
}
