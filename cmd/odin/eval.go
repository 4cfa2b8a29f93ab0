package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/metrics"
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
	ci                                   ciFlags         // --ci, --resamples, --ci-seed (cmd/odin/report.go)
	reportDir                            string          // --report
	shard                                string          // odin eval --shard i/n
}

func (f *evalFlags) register(fs interface {
	StringVar(*string, string, string, string)
	Float64Var(*float64, string, float64, string)
	IntVar(*int, string, int, string)
	Uint64Var(*uint64, string, uint64, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.out, "out_dataset", "Imagenet", "OOD set: "+strings.Join(dataset.OODNames(), ", ")+", a folder of 32×32 images, or folder:PATH (an ImageNet-style folder, or a folder of images without sub-folders, resized and cropped to the network's side)")
	fs.StringVar(&f.in, "in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100), or folder:PATH (an ImageNet-style folder <PATH>/<class>/*.JPEG)")
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
	if err := checkODINFlags(f.temperature, f.magnitude); err != nil {
		return err
	}
	switch {
	case f.first < 0:
		return usageError("--first must not be negative, got %d", f.first)
	case f.count < 0 || (f.count == 0 && f.given["count"]):
		return usageError("--count must be positive, got %d", f.count)
	case f.json && f.csv:
		return usageError("--json and --csv exclude each other")
	}
	return nil
}

// displayName is a set's name as the seed's table printed it (dataset.Descriptor.Display).
func displayName(set string) string {
	if d, ok := dataset.Lookup(set); ok && d.Display != "" {
		return d.Display
	}
	return set
}

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval")
	var f evalFlags
	f.netFlags.register(fs, "densenet10", 8)
	f.registerPrep(fs)
	f.register(fs)
	f.ci.register(fs, 0)
	fs.StringVar(&f.reportDir, "report", "", "write a report (figures, index.html, report.md, report.json) of the run into this folder (see odin report)")
	fs.StringVar(&f.shard, "shard", "", "score only shard `i/n`: of each set's images, those whose index k has k mod n = i (needs --scores; join the folders with odin merge)")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if err := f.check(); err != nil {
		return err
	}
	if err := f.ci.check(); err != nil {
		return err
	}
	if f.gpu != "" {
		fmt.Fprintf(stderr, "note: --gpu %s ignored: odin runs on the CPU with %d workers\n", f.gpu, f.workers)
	}
	net, err := f.network(stderr)
	if err != nil {
		return err
	}
	var th *decision.Threshold
	if f.threshold != "" {
		if th, err = f.useThreshold(net); err != nil {
			return err
		}
	}
	ev, err := f.setup(ctx, net, stderr)
	if err != nil {
		return err
	}
	ev.Progress = progressBars(stderr, f.quiet)
	o, err := ev.Run(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && f.scores != "" {
			fmt.Fprintf(stderr, "scores so far kept in %s: run the same command again to resume\n", f.scores)
		}
		return adviseOtherRun(err, f.scores)
	}
	ci, err := f.intervals(ctx, args, net, ev, o, stderr)
	if err != nil {
		return err
	}
	if err := f.report(stdout, net, ev, o, ci); err != nil {
		return err
	}
	if th != nil {
		return reportDecisions(stdout, stderr, th, o, f.json || f.csv)
	}
	return nil
}

// useThreshold loads --threshold, checks that it was calibrated on this network and takes its T
// and ε, refusing a --temperature or --magnitude that disagrees.
func (f *evalFlags) useThreshold(net *experiment.Network) (*decision.Threshold, error) {
	th, err := decision.Load(f.threshold)
	if err != nil {
		return nil, err
	}
	if err := th.CheckNetwork(net.Digest()); err != nil {
		return nil, fmt.Errorf("--threshold %s: %v", f.threshold, err)
	}
	if err := th.CheckPreprocess(net.PreprocessJSON()); err != nil {
		return nil, fmt.Errorf("--threshold %s: %v (give the preprocessing flags odin calibrate had)", f.threshold, err)
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
func reportDecisions(stdout, stderr io.Writer, th *decision.Threshold, o *experiment.Outcome, machine bool) error {
	d := -1
	for i, m := range o.Methods {
		if m == "odin" {
			d = i
		}
	}
	if d < 0 {
		return nil
	}
	w := stdout
	if machine {
		w = stderr
	}
	_, err := fmt.Fprintf(w, "\nThreshold δ = %.17g (T = %g, ε = %g, calibrated on %d images of %s to accept %g%%):\n"+
		"accepts %.2f%% of the in-distribution images and %.2f%% of the OOD images\n",
		th.Delta, th.Temperature, th.Magnitude, th.Count, th.InDataset, 100*th.TPR, 100*th.Accepts(o.In[d]), 100*th.Accepts(o.Out[d]))
	return err
}

// setup opens the sets and makes the evaluation (experiment.NewEval).
func (f *evalFlags) setup(ctx context.Context, net *experiment.Network, stderr io.Writer) (*experiment.Eval, error) {
	inName, err := f.inSet(f.in, net)
	if err != nil {
		return nil, err
	}
	if inName == f.out {
		return nil, usageError("--out_dataset %s is the in-distribution set", f.out)
	}
	data := datadir.Data(f.data)
	in, err := f.openSet(ctx, inName, dataset.Options{Data: data})
	if err != nil {
		return nil, err
	}
	out, err := openOOD(ctx, f.out, dataset.Options{Data: data, Cache: f.cache, Count: in.Len(), Seed: f.seed,
		Construction: f.construction, Build: true, Workers: f.workers}, stderr, f.quiet, net)
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
	s := experiment.Setup{Net: net, Methods: f.method, Temperature: f.temperature, Magnitude: f.magnitude,
		Stats: f.stats, In: inR, Out: outR, InSet: inName, OutSet: f.out, Construction: f.construction, Seed: f.seed,
		Workers: f.workers, Batch: f.batch, ScoresDir: f.scores, Fresh: f.fresh}
	if cache, err := datadir.Cache(f.cache); err == nil {
		s.Cache = cache
	}
	shard, err := collection.ParseShard(f.shard)
	switch {
	case err != nil:
		return nil, usageError("--shard: %v", err)
	case !shard.Whole() && f.scores == "":
		return nil, usageError("--shard needs --scores DIR: each shard keeps its scores in its own folder for odin merge")
	}
	var ev *experiment.Eval
	if shard.Whole() {
		ev, err = experiment.NewEval(s)
	} else {
		ev, err = collection.NewShardEval(s, shard)
	}
	if err != nil {
		return nil, adviseStats(err, f.nn, f.method, f.stats)
	}
	return ev, nil
}

func (f *evalFlags) inName(net *experiment.Network) string {
	name, _ := f.inSet(f.in, net) // checked in setup
	return name
}

// openOOD opens an OOD set, building a missing Tiny-ImageNet or LSUN set into the cache with a
// progress bar. A folder:PATH set is transformed for net, and a set whose images are not of
// net's size is refused.
func openOOD(ctx context.Context, name string, opt dataset.Options, stderr io.Writer, quiet bool, net *experiment.Network) (dataset.Dataset, error) {
	// progress.New gives no bar with --quiet, so whether the build started is kept apart.
	var bar *progress.Bar
	started := false
	opt.Progress = func(done, total int) {
		if !started {
			started = true
			fmt.Fprintf(stderr, "building %s (%s construction) into the cache\n", name, opt.Construction)
			bar = progress.New(stderr, "build", total, quiet)
		}
		bar.Set(done)
	}
	ds, err := experiment.OpenSet(ctx, net, name, opt)
	if started {
		bar.Finish()
	}
	return ds, adviseImages(err)
}

func (f *evalFlags) span(ds dataset.Dataset) (experiment.Range, error) {
	r, err := experiment.NewRange(ds, f.first, f.count)
	if errors.Is(err, experiment.ErrRange) {
		if f.count > 0 {
			return r, usageError("--first %d --count %d: %s has only %d images", f.first, f.count, ds.Name(), ds.Len())
		}
		return r, usageError("--first %d: %s has only %d images", f.first, ds.Name(), ds.Len())
	}
	return r, err
}

// report prints the outcome; ci, if not nil, holds each method's confidence intervals (--ci).
func (f *evalFlags) report(stdout io.Writer, net *experiment.Network, ev *experiment.Eval, o *experiment.Outcome, ci []metrics.ResultCI) error {
	inName := f.inName(net)
	switch {
	case f.json:
		obj := map[string]any{
			"nn": f.nn, "in_dataset": inName, "out_dataset": f.out,
			"temperature": f.temperature, "magnitude": f.magnitude,
			"count_in": ev.In.Count, "count_out": ev.Out.Count,
		}
		if o.SeedTable() {
			obj["baseline"], obj["odin"] = o.Results[0].Percent(), o.Results[1].Percent()
		} else {
			obj["methods"] = o.Percent()
		}
		if ci != nil {
			obj["ci"] = f.ciJSON(o, ci)
		}
		return json.NewEncoder(stdout).Encode(obj)
	case f.csv:
		return f.writeCSV(stdout, inName, ev, o, ci)
	}
	header := [][2]string{
		{"Neural network architecture", net.Model.Name},
		{"In-distribution dataset", displayName(inName)},
		{"Out-of-distribution dataset", displayName(f.out)},
	}
	if ci != nil {
		return writeTableCI(stdout, header, o, ci, f.ci)
	}
	return o.WriteTable(stdout, header)
}

func (f *evalFlags) writeCSV(stdout io.Writer, inName string, ev *experiment.Eval, o *experiment.Outcome, ci []metrics.ResultCI) error {
	w := csv.NewWriter(stdout)
	head := []string{"nn", "in_dataset", "out_dataset", "temperature", "magnitude", "method", "count_in", "count_out", "fpr95", "det_err", "auroc", "aupr_in", "aupr_out"}
	if ci != nil {
		head = append(head, ciColumns...)
	}
	w.Write(head)
	for i, r := range o.Results {
		p := r.Percent()
		row := []string{f.nn, inName, f.out, fmtF(f.temperature), fmtF(f.magnitude), experiment.Column(o.Methods[i]),
			strconv.Itoa(ev.In.Count), strconv.Itoa(ev.Out.Count)}
		for _, v := range []float64{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut} {
			row = append(row, fmtF(v))
		}
		if ci != nil {
			row = append(row, ciCells(ci[i])...)
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

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
