package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

func init() {
	register("eval", "the seed's experiment: baseline versus ODIN on an in-distribution and an OOD set", cmdEval)
}

// evalFlags are the flags of odin eval (and of the commands that run evaluations).
type evalFlags struct {
	netFlags
	out, in, cache, construction, scores string
	method, stats                        string
	threshold                            string
	magnitude, temperature               float64
	first, count                         int
	seed                                 uint64
	gpu                                  string
	json, csv, quiet, fresh              bool
	given                                map[string]bool // flags set explicitly
}

func (f *evalFlags) register(fs interface {
	StringVar(*string, string, string, string)
	Float64Var(*float64, string, float64, string)
	IntVar(*int, string, int, string)
	Uint64Var(*uint64, string, uint64, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.out, "out_dataset", "Imagenet", "OOD set: "+strings.Join(dataset.Names()[2:], ", ")+", or an image folder")
	fs.StringVar(&f.in, "in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100)")
	fs.Float64Var(&f.magnitude, "magnitude", 0.0014, "ODIN perturbation magnitude ε")
	fs.Float64Var(&f.temperature, "temperature", 1000, "ODIN temperature T")
	fs.IntVar(&f.first, "first", 1000, "first image of each set to score (images before it are held out for tuning)")
	fs.IntVar(&f.count, "count", 0, "images to score from each set (default: the rest of the set)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the noise sets and of built crops")
	fs.StringVar(&f.cache, "cache", "", "folder of built OOD sets (default $ODIN_CACHE, else the user cache folder)")
	fs.StringVar(&f.construction, "construction", "seed", "how a missing Tiny-ImageNet/LSUN set is built: seed or clean")
	fs.StringVar(&f.scores, "scores", "", "folder to keep score files in (in.csv, out.csv); a rerun resumes from them")
	fs.StringVar(&f.gpu, "gpu", "", "accepted for compatibility with the seed; odin runs on the CPU")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of the table")
	fs.BoolVar(&f.csv, "csv", false, "print CSV instead of the table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&f.method, "method", "", "detectors to score with, comma-separated ("+strings.Join(ood.Names(), ", ")+"); default msp,odin, the seed's two-column table")
	fs.StringVar(&f.stats, "stats", "", "statistics file of the fitted detectors (made by odin fit; default in the cache)")
	fs.BoolVar(&f.fresh, "fresh", false, "score again instead of reusing scores kept in the cache by an earlier run")
	fs.StringVar(&f.threshold, "threshold", "", "threshold file made by odin calibrate: take T and ε from it and report what its decision rule accepts")
}

func (f *evalFlags) check() error {
	if err := f.netFlags.check(); err != nil {
		return err
	}
	switch {
	case f.magnitude < 0:
		return usageError("--magnitude must not be negative, got %g", f.magnitude)
	case !(f.temperature > 0):
		return usageError("--temperature must be positive, got %g", f.temperature)
	case f.first < 0:
		return usageError("--first must not be negative, got %d", f.first)
	case f.count < 0 || (f.count == 0 && f.given["count"]):
		return usageError("--count must be positive, got %d", f.count)
	case f.json && f.csv:
		return usageError("--json and --csv exclude each other")
	}
	return nil
}

// Display names of the seed's sets, as its table printed them.
var displayNames = map[string]string{
	"cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
	"Imagenet": "Tiny-ImageNet (crop)", "Imagenet_resize": "Tiny-ImageNet (resize)",
	"LSUN": "LSUN (crop)", "LSUN_resize": "LSUN (resize)", "iSUN": "iSUN",
	"Uniform": "Uniform", "Gaussian": "Gaussian",
}

func displayName(set string) string {
	if d, ok := displayNames[set]; ok {
		return d
	}
	return set
}

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval")
	var f evalFlags
	f.netFlags.register(fs, "densenet10", 8)
	f.register(fs)
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if err := f.check(); err != nil {
		return err
	}
	if f.gpu != "" {
		fmt.Fprintf(stderr, "note: --gpu %s ignored: odin runs on the CPU with %d workers\n", f.gpu, f.workers)
	}
	m, known, err := f.load()
	if err != nil {
		return err
	}
	var th *experiment.Threshold
	if f.threshold != "" {
		if th, err = f.useThreshold(); err != nil {
			return err
		}
	}
	ev, err := f.setup(ctx, m, known, stderr)
	if err != nil {
		return err
	}
	ev.Progress = progressBars(stderr, f.quiet)
	o, err := ev.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && f.scores != "" {
			fmt.Fprintf(stderr, "scores so far kept in %s: run the same command again to resume\n", f.scores)
		}
		return err
	}
	if err := f.report(stdout, m, known, ev, o); err != nil {
		return err
	}
	if th != nil {
		return reportDecisions(stdout, stderr, th, o, f.json || f.csv)
	}
	return nil
}

// useThreshold loads --threshold, checks that it was calibrated on this network and takes its T
// and ε, refusing a --temperature or --magnitude that disagrees.
func (f *evalFlags) useThreshold() (*experiment.Threshold, error) {
	th, err := experiment.LoadThreshold(f.threshold)
	if err != nil {
		return nil, err
	}
	digest, err := experiment.CheckpointDigest(f.path)
	if err != nil {
		return nil, err
	}
	if err := th.CheckNetwork(digest); err != nil {
		return nil, fmt.Errorf("--threshold %s: %v", f.threshold, err)
	}
	if f.given["temperature"] && f.temperature != th.Temperature || f.given["magnitude"] && f.magnitude != th.Magnitude {
		return nil, usageError("--threshold %s holds T = %g and ε = %g; leave out --temperature and --magnitude or give those", f.threshold, th.Temperature, th.Magnitude)
	}
	if f.method != "" && !strings.Contains(","+f.method+",", ",odin,") {
		return nil, usageError("--threshold decides on odin scores: --method must include odin")
	}
	f.temperature, f.magnitude = th.Temperature, th.Magnitude
	return th, nil
}

// reportDecisions prints what the threshold's rule (accept when the ODIN score ≥ δ) does on the
// scored images: the fraction of in-distribution images it accepts and of OOD images it lets
// through. With machine output (--json, --csv) it goes to stderr, so stdout stays one document.
func reportDecisions(stdout, stderr io.Writer, th *experiment.Threshold, o *experiment.Outcome, machine bool) error {
	d := -1
	for i, m := range o.Methods {
		if m == "odin" {
			d = i
		}
	}
	if d < 0 {
		return nil
	}
	frac := func(scores []float64) float64 {
		n := 0
		for _, s := range scores {
			if th.Decide(s) {
				n++
			}
		}
		return 100 * float64(n) / float64(len(scores))
	}
	w := stdout
	if machine {
		w = stderr
	}
	_, err := fmt.Fprintf(w, "\nThreshold δ = %.17g (T = %g, ε = %g, calibrated on %d images of %s to accept %g%%):\n"+
		"accepts %.2f%% of the in-distribution images and %.2f%% of the OOD images\n",
		th.Delta, th.Temperature, th.Magnitude, th.Count, th.InDataset, 100*th.TPR, frac(o.In[d]), frac(o.Out[d]))
	return err
}

// setup opens the sets and prepares the evaluation.
func (f *evalFlags) setup(ctx context.Context, m *models.Model, known models.Known, stderr io.Writer) (*experiment.Eval, error) {
	inName := f.in
	if inName == "" {
		inName = known.InSet
	}
	if inName == f.out {
		return nil, usageError("--out_dataset %s is the in-distribution set", f.out)
	}
	data := datadir.Data(f.data)
	in, err := dataset.Open(inName, dataset.Options{Data: data})
	if err != nil {
		return nil, err
	}
	opt := dataset.Options{Data: data, Cache: f.cache, Count: in.Len(), Seed: f.seed,
		Construction: f.construction, Build: true, Workers: f.workers}
	// progress.New gives no bar with --quiet, so whether the build started is kept apart.
	var buildBar *progress.Bar
	building := false
	opt.Progress = func(done, total int) {
		if !building {
			building = true
			fmt.Fprintf(stderr, "building %s (%s construction) into the cache\n", f.out, f.construction)
			buildBar = progress.New(stderr, "build", total, f.quiet)
		}
		buildBar.Set(done)
	}
	out, err := dataset.OpenContext(ctx, f.out, opt)
	if building {
		buildBar.Finish()
	}
	if err != nil {
		return nil, err
	}
	inR, err := f.span(in)
	if err != nil {
		return nil, err
	}
	outR, err := f.span(out)
	if err != nil {
		return nil, err
	}
	dets, statsID, err := evalDetectors(f.method, f.stats, f.cache, f.nn, m, f.temperature, f.magnitude)
	if err != nil {
		return nil, err
	}
	// The in-distribution scores depend on the network, the parameters and the range only, so
	// they are kept in the cache and reused by evaluations against other OOD sets.
	inID := map[string]string{
		"network": m.Name, "checkpoint": f.checkpointIdentity(), "kernel": gemm.Kernel(),
		"temperature": fmtF(f.temperature), "magnitude": fmtF(f.magnitude), "methods": methodList(dets), "stats": statsID,
		"in_dataset": inName, "first": strconv.Itoa(inR.First), "count": strconv.Itoa(inR.Count),
	}
	outID := maps.Clone(inID)
	delete(outID, "in_dataset")
	outID["out_dataset"], outID["construction"], outID["seed"] = f.out, f.construction, strconv.FormatUint(f.seed, 10)
	outID["first"], outID["count"] = strconv.Itoa(outR.First), strconv.Itoa(outR.Count)
	outID["dataset"] = out.Name() // tells a seed archive from a built copy, and names folders
	var inCache, outCache string
	if cache, err := datadir.Cache(f.cache); err == nil && !f.fresh {
		inCache = filepath.Join(cache, "scores", experiment.IdentityDir(inID))
		outCache = filepath.Join(cache, "scores", experiment.IdentityDir(outID))
	}
	return &experiment.Eval{
		InCache:     inCache,
		InIdentity:  inID,
		OutCache:    outCache,
		OutIdentity: outID,
		Scorer:      experiment.NewScorer(m, dets, f.workers, f.batch),
		In:          inR,
		Out:         outR,
		ScoresDir:   f.scores,
		Identity: map[string]string{
			"nn": f.nn, "network": m.Name, "temperature": strconv.FormatFloat(f.temperature, 'g', -1, 64),
			"magnitude": strconv.FormatFloat(f.magnitude, 'g', -1, 64), "in_dataset": inName, "out_dataset": f.out,
			"first": strconv.Itoa(f.first), "count": strconv.Itoa(inR.Count) + "," + strconv.Itoa(outR.Count),
			"seed": strconv.FormatUint(f.seed, 10), "construction": f.construction,
			"methods": methodList(dets), "stats": statsID,
		},
	}, nil
}

func (f *evalFlags) span(ds dataset.Dataset) (experiment.Range, error) {
	if f.first >= ds.Len() {
		return experiment.Range{}, usageError("--first %d: %s has only %d images", f.first, ds.Name(), ds.Len())
	}
	n := ds.Len() - f.first
	if f.count > 0 {
		if f.first+f.count > ds.Len() {
			return experiment.Range{}, usageError("--first %d --count %d: %s has only %d images", f.first, f.count, ds.Name(), ds.Len())
		}
		n = f.count
	}
	return experiment.Range{Data: ds, First: f.first, Count: n}, nil
}

func (f *evalFlags) report(stdout io.Writer, m *models.Model, known models.Known, ev *experiment.Eval, o *experiment.Outcome) error {
	inName := f.in
	if inName == "" {
		inName = known.InSet
	}
	seedTable := strings.Join(o.Methods, ",") == "msp,odin"
	switch {
	case f.json:
		obj := map[string]any{
			"nn": f.nn, "in_dataset": inName, "out_dataset": f.out,
			"temperature": f.temperature, "magnitude": f.magnitude,
			"count_in": ev.In.Count, "count_out": ev.Out.Count,
		}
		if seedTable {
			obj["baseline"], obj["odin"] = o.Results[0].Percent(), o.Results[1].Percent()
		} else {
			obj["methods"] = methodJSON(o.Methods, o.Results)
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(obj)
	case f.csv:
		w := csv.NewWriter(stdout)
		w.Write([]string{"nn", "in_dataset", "out_dataset", "temperature", "magnitude", "method", "count_in", "count_out", "fpr95", "det_err", "auroc", "aupr_in", "aupr_out"})
		for i, r := range o.Results {
			p := r.Percent()
			row := []string{f.nn, inName, f.out, fmtF(f.temperature), fmtF(f.magnitude), experiment.Column(o.Methods[i]),
				strconv.Itoa(ev.In.Count), strconv.Itoa(ev.Out.Count)}
			for _, v := range []float64{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut} {
				row = append(row, fmtF(v))
			}
			w.Write(row)
		}
		w.Flush()
		return w.Error()
	}
	header := [][2]string{
		{"Neural network architecture", m.Name},
		{"In-distribution dataset", displayName(inName)},
		{"Out-of-distribution dataset", displayName(f.out)},
	}
	if !seedTable {
		return writeMethodTable(stdout, header, o.Methods, o.Results)
	}
	return metrics.WriteTable(stdout, header, []string{"Baseline", "Our Method"}, o.Results)
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// checkpointIdentity stands for the network's checkpoint in a cache key: the SHA-256 of its
// contents, so that kept scores survive a copy or a touch of the file and never outlive a change
// of its contents. (Hashing reads the file once more: 3 MB for densenet10, well under a second
// for a Wide ResNet.) An unreadable file falls back to its path; loading it would have failed.
func (f *netFlags) checkpointIdentity() string {
	if f.digest == "" {
		d, err := experiment.CheckpointDigest(f.path)
		if err != nil {
			abs, _ := filepath.Abs(f.path)
			return abs
		}
		f.digest = "sha256:" + d
	}
	return f.digest
}

// progressBars draws one bar per set ("in", "out") of an evaluation.
func progressBars(stderr io.Writer, quiet bool) func(set string, done, total int) {
	bar := map[string]*progress.Bar{}
	return func(set string, done, total int) {
		if bar[set] == nil {
			bar[set] = progress.New(stderr, set, total, quiet)
		}
		bar[set].Set(done)
		if done == total {
			bar[set].Finish()
		}
	}
}
