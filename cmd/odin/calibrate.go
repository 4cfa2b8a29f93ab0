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
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

func init() {
	register("calibrate", "store ODIN's parameters and the score threshold that accepts a given share of in-distribution images", cmdCalibrate)
}

func cmdCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate")
	var nf netFlags
	nf.register(fs, "densenet10", 8)
	in := fs.String("in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100)")
	tpr := fs.Float64("tpr", 0.95, "share of held-out in-distribution images to accept, in (0, 1]")
	temperature := fs.Float64("temperature", 1000, "ODIN temperature T")
	magnitude := fs.Float64("magnitude", 0.0014, "ODIN perturbation magnitude ε")
	fromTune := fs.String("from-tune", "", "take T and ε from this file holding the output of odin tune --json")
	first := fs.Int("first", 0, "first held-out in-distribution image")
	count := fs.Int("count", 1000, "held-out in-distribution images")
	out := fs.String("out", "", "threshold file to write (JSON)")
	asJSON := fs.Bool("json", false, "print the threshold file's contents instead of a summary")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if err := nf.check(); err != nil {
		return err
	}
	switch {
	case *out == "":
		return usageError("--out FILE is required: where to write the threshold")
	case !(*tpr > 0 && *tpr <= 1):
		return usageError("--tpr must be in (0, 1], got %g", *tpr)
	case *first < 0:
		return usageError("--first must not be negative, got %d", *first)
	case *count < 1:
		return usageError("--count must be positive, got %d", *count)
	case *fromTune != "" && (given["temperature"] || given["magnitude"]):
		return usageError("--from-tune gives T and ε: drop --temperature and --magnitude")
	}
	if *fromTune != "" {
		tunedNN, t, eps, err := readTuneJSON(*fromTune)
		if err != nil {
			return err
		}
		if tunedNN != "" && given["nn"] && tunedNN != nf.nn {
			return usageError("--from-tune %s was tuned for --nn %s, not %s", *fromTune, tunedNN, nf.nn)
		}
		if tunedNN != "" && !given["nn"] {
			nf.nn = tunedNN
		}
		*temperature, *magnitude = t, eps
	}
	if *magnitude < 0 {
		return usageError("--magnitude must not be negative, got %g", *magnitude)
	}
	if !(*temperature > 0) {
		return usageError("--temperature must be positive, got %g", *temperature)
	}

	data := datadir.Data(nf.data)
	path, _, err := models.Resolve(nf.nn, data)
	if err != nil {
		return err
	}
	m, known, err := nf.load()
	if err != nil {
		return err
	}
	digest, err := experiment.CheckpointDigest(path)
	if err != nil {
		return err
	}
	inName := *in
	if inName == "" {
		inName = known.InSet
	}
	ds, err := dataset.Open(inName, dataset.Options{Data: data, Count: *first + *count})
	if err != nil {
		return err
	}
	if *first+*count > ds.Len() {
		return usageError("--first %d --count %d: %s has only %d images", *first, *count, ds.Name(), ds.Len())
	}
	det := &ood.ODIN{Temperature: *temperature, Magnitude: *magnitude}
	bar := progress.New(stderr, inName, *count, *quiet)
	scores, err := experiment.NewScorer(m, []ood.Detector{det}, nf.workers, nf.batch).Score(ctx, ds, *first, *count, nil, bar.Set)
	if err != nil {
		return err
	}
	bar.Finish()
	delta, accepted, err := experiment.Calibrate(scores[0], *tpr)
	if err != nil {
		return err
	}
	th := &experiment.Threshold{Method: "odin", Temperature: *temperature, Magnitude: *magnitude, Delta: delta,
		TPR: *tpr, Accepted: accepted, NN: nf.nn, Network: m.Name, Checkpoint: digest,
		InDataset: inName, First: *first, Count: *count}
	if err := th.Save(*out); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(th)
	}
	_, err = fmt.Fprintf(stdout, "threshold %s (T = %s, ε = %s) accepts %d of %d held-out %s images (%.1f%%, asked %.1f%%); written to %s\n",
		fmtF(delta), fmtF(*temperature), fmtF(*magnitude), int(accepted*float64(*count)+0.5), *count, displayName(inName),
		100*accepted, 100**tpr, *out)
	return err
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
