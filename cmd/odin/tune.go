package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
)

func init() {
	register("tune", "search ODIN's temperature and magnitude on held-out images", cmdTune)
}

const paperTemperatures = "1,2,5,10,20,50,100,200,500,1000"

// godinMagnitudes are the magnitudes Generalized ODIN (Hsu et al., CVPR 2020) searched, and 0: the
// mean in-distribution score keeps rising over the paper's [0, 0.004], so that range would
// always pick its upper end.
const godinMagnitudes = "0,0.0025,0.005,0.01,0.02,0.04,0.08"

// tuneFlags are the flags of odin tune.
type tuneFlags struct {
	netFlags
	in, val, cache, construction        string
	temperatures, magnitudes, criterion string
	first, count                        int
	seed                                uint64
	grid, plot, search                  string
	json, quiet, fresh                  bool
	given                               map[string]bool
	vals                                []string // --val_dataset split; ["none"] without OOD data
	inOnly                              bool     // --val_dataset none
	inName                              string   // the in-distribution set, once opened
}

func cmdTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f tuneFlags
	if err := f.parse(args, stdout); err != nil {
		return err
	}
	grid, crit, err := f.plan()
	if err != nil {
		return err
	}
	net, err := f.network(stderr)
	if err != nil {
		return err
	}
	inR, valR, err := f.openSets(ctx, net, stderr)
	if err != nil {
		return err
	}
	tu, err := experiment.NewTuner(net.Model, grid, crit, f.workers, f.batch)
	if err != nil {
		return err
	}
	// Grid scores are kept in the cache as they are computed: a rerun, a run against another
	// validation set and an interrupted run all pick them up.
	if cache, err := datadir.Cache(f.cache); err == nil && !f.fresh {
		tu.UseCache(filepath.Join(cache, "tune"), net, f.seed)
	}
	if f.search == "halving" && !f.inOnly {
		h := experiment.DefaultHalving
		tu.Halving = &h
	}
	start := time.Now()
	results, err := f.runSearch(ctx, tu, inR, valR, stderr)
	if err != nil {
		return err
	}
	f.reportPasses(ctx, stderr, tu, append([]experiment.Range{inR}, valR...), results, time.Since(start))
	return f.writeResults(stdout, stderr, net, results)
}

// parse registers, parses and checks the flags.
func (f *tuneFlags) parse(args []string, stdout io.Writer) error {
	fs := newFlags("tune")
	f.netFlags.register(fs, "densenet10", 8)
	f.registerPrep(fs)
	fs.StringVar(&f.in, "in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100), or folder:PATH (an ImageNet-style folder)")
	fs.StringVar(&f.val, "val_dataset", "Imagenet", "validation OOD set (a known name, a folder of 32×32 images or folder:PATH), several separated by commas (each tuned separately), or none to choose ε from in-distribution images alone")
	fs.StringVar(&f.temperatures, "temperatures", paperTemperatures, "temperatures to try: a list a,b,c or lo:hi:n (n evenly spaced values); with --val_dataset none one value, default 1000")
	fs.StringVar(&f.magnitudes, "magnitudes", "0:0.004:21", "magnitudes ε to try: a list a,b,c or lo:hi:n (n evenly spaced values); with --val_dataset none default "+godinMagnitudes)
	fs.StringVar(&f.criterion, "criterion", "fpr95", "what to optimise: fpr95, det_err or auroc (in_score with --val_dataset none)")
	fs.IntVar(&f.first, "first", 0, "first held-out image of each set")
	fs.IntVar(&f.count, "count", 1000, "held-out images of each set")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the noise sets and of built crops")
	fs.StringVar(&f.cache, "cache", "", "folder of built OOD sets and of grid scores, under tune/ (default $ODIN_CACHE, else the user cache folder)")
	fs.StringVar(&f.construction, "construction", "seed", "how a missing Tiny-ImageNet/LSUN set is built: seed or clean")
	fs.StringVar(&f.grid, "grid", "", "write every cell's metrics to this CSV file")
	fs.StringVar(&f.plot, "plot", "", "write a heat map of the criterion to this PNG file, or SVG if it ends in .svg (one per validation set, named after it, when there are several)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per validation set instead of the table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.fresh, "fresh", false, "score again instead of reusing grid scores kept in the cache by earlier or interrupted runs")
	fs.StringVar(&f.search, "search", "halving", "halving: successive halving (every cell on 1/16 of the images, the best quarter on 1/4, the best quarter of those on all; the survivors' metrics are exact, nothing is cached), or full: every cell on every image, cached")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	if f.search != "halving" && f.search != "full" {
		return usageError("--search %q: want halving or full", f.search)
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if err := f.netFlags.check(); err != nil {
		return err
	}
	if f.first < 0 {
		return usageError("--first must not be negative, got %d", f.first)
	}
	if f.count < 1 {
		return usageError("--count must be positive, got %d", f.count)
	}
	f.vals = strings.Split(f.val, ",")
	f.inOnly = f.val == "none"
	for _, v := range f.vals {
		if v == "" || (v == "none" && !f.inOnly) {
			return usageError("--val_dataset %q: name OOD sets separated by commas, or none alone", f.val)
		}
	}
	if f.inOnly {
		f.vals = []string{"none"}
		if !f.given["temperatures"] {
			f.temperatures = "1000"
		}
		if !f.given["magnitudes"] {
			f.magnitudes = godinMagnitudes
		}
	}
	return nil
}

// plan reads the grid and the criterion.
func (f *tuneFlags) plan() (experiment.Grid, experiment.Criterion, error) {
	grid, err := f.parseGrid()
	if err != nil {
		return grid, "", err
	}
	crit, err := experiment.ParseCriterion(f.criterion)
	if err != nil {
		return grid, "", usageError("--criterion: %v", err)
	}
	switch {
	case f.inOnly && f.given["criterion"] && crit != experiment.MaxInScore:
		return grid, "", usageError("--criterion %s needs OOD data; with --val_dataset none the criterion is in_score", crit)
	case f.inOnly:
		if len(grid.Temperatures) != 1 {
			return grid, "", usageError("--val_dataset none chooses ε at one fixed temperature: give one --temperatures value, got %d", len(grid.Temperatures))
		}
		return grid, experiment.MaxInScore, nil
	case crit == experiment.MaxInScore:
		return grid, "", usageError("--criterion in_score is for --val_dataset none")
	}
	return grid, crit, nil
}

// openSets opens the held-out in-distribution images and those of each validation set.
func (f *tuneFlags) openSets(ctx context.Context, net *experiment.Network, stderr io.Writer) (inR experiment.Range, valR []experiment.Range, err error) {
	if f.inName, err = f.inSet(f.in, net); err != nil {
		return inR, nil, err
	}
	if !f.inOnly && slices.Contains(f.vals, f.inName) {
		return inR, nil, usageError("--val_dataset %s is the in-distribution set: validate on an OOD set", f.inName)
	}
	data := datadir.Data(f.data)
	inSet, err := f.openSet(ctx, f.inName, dataset.Options{Data: data, Count: f.first + f.count, Seed: f.seed})
	if err != nil {
		return inR, nil, err
	}
	if inR, err = heldOut(inSet, f.first, f.count); err != nil || f.inOnly {
		return inR, nil, err
	}
	for _, v := range f.vals {
		opt := dataset.Options{Data: data, Cache: f.cache, Count: max(inSet.Len(), f.first+f.count), Seed: f.seed,
			Construction: f.construction, Build: true, Workers: f.workers}
		ds, err := openOOD(ctx, v, opt, stderr, f.quiet, net)
		if err != nil {
			return inR, nil, err
		}
		r, err := heldOut(ds, f.first, f.count)
		if err != nil {
			return inR, nil, err
		}
		valR = append(valR, r)
	}
	return inR, valR, nil
}

// runSearch runs the search against each validation set (or the in-distribution images alone).
func (f *tuneFlags) runSearch(ctx context.Context, tu *experiment.Tuner, inR experiment.Range, valR []experiment.Range, stderr io.Writer) ([]*experiment.Tuning, error) {
	kept := func(err error) error {
		if errors.Is(err, context.Canceled) && tu.CacheDir != "" {
			fmt.Fprintf(stderr, "scores so far kept in %s: run the same command again to resume\n", tu.CacheDir)
		}
		return adviseOtherRun(err, "")
	}
	if f.inOnly {
		tu.Progress = f.progress(stderr, map[string]string{"in": f.inName})
		res, err := tu.TuneInOnly(ctx, inR)
		if err != nil {
			return nil, kept(err)
		}
		return []*experiment.Tuning{res}, nil
	}
	var results []*experiment.Tuning
	for i, r := range valR {
		tu.Progress = f.progress(stderr, map[string]string{"in": f.inName, "out": f.vals[i]})
		res, err := tu.Tune(ctx, inR, r)
		if err != nil {
			return nil, kept(err)
		}
		results = append(results, res)
	}
	return results, nil
}

// reportPasses tells how much work the search took and how much was read back from the cache.
func (f *tuneFlags) reportPasses(ctx context.Context, stderr io.Writer, tu *experiment.Tuner, ranges []experiment.Range, results []*experiment.Tuning, took time.Duration) {
	var fwd, bwd, resumed int
	for _, res := range results {
		fwd += res.Forward
		bwd += res.Backward
	}
	if tu.Halving == nil {
		for _, r := range ranges {
			s, _ := tu.Scores(ctx, "", r)
			resumed += s.Resumed
		}
	}
	note := ""
	if resumed > 0 {
		note = fmt.Sprintf(" (%d images' scores reused from %s)", resumed, tu.CacheDir)
	}
	how := ""
	if len(results) > 0 && results[0].Search != "" {
		how = " by " + results[0].Search
	}
	fmt.Fprintf(stderr, "searched %d cells%s in %s: %d forward and %d backward image passes%s\n", tu.Grid.Len(), how, took.Round(time.Second), fwd, bwd, note)
}

// writeResults writes --grid, --plot, the report or JSON of each search, and notes.
func (f *tuneFlags) writeResults(stdout, stderr io.Writer, net *experiment.Network, results []*experiment.Tuning) error {
	if f.grid != "" {
		var b bytes.Buffer
		if err := experiment.WriteGrid(&b, f.vals, results); err != nil {
			return err
		}
		if err := os.WriteFile(f.grid, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if f.plot != "" {
		for i, res := range results {
			path := f.plot
			if len(results) > 1 {
				ext := filepath.Ext(path)
				path = strings.TrimSuffix(path, ext) + "-" + fileSafe(f.vals[i]) + ext
			}
			if err := writeHeatMap(path, res, displayName(f.vals[i])); err != nil {
				return err
			}
		}
	}
	for i, res := range results {
		if f.json {
			if err := f.writeJSON(stdout, f.inName, f.vals[i], res); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := f.writeReport(stdout, net.Model, f.inName, f.vals[i], res); err != nil {
			return err
		}
	}
	f.notes(stderr, results)
	return nil
}

func (f *tuneFlags) notes(stderr io.Writer, results []*experiment.Tuning) {
	for i, res := range results {
		best, top := res.BestCell(), slices.Max(res.Grid.Magnitudes)
		if best.Magnitude == top && len(res.Grid.Magnitudes) > 1 {
			fmt.Fprintf(stderr, "note: %s: the chosen ε %s is the largest tried; a larger one may be better: widen --magnitudes\n", f.vals[i], fmtF(top))
		}
	}
	if f.first+f.count > 1000 {
		fmt.Fprintf(stderr, "note: the held-out images %d to %d overlap the images odin eval scores by default (1000 onwards)\n", f.first, f.first+f.count-1)
	}
}

// parseGrid reads --temperatures and --magnitudes.
func (f *tuneFlags) parseGrid() (experiment.Grid, error) {
	t, err := parseValues(f.temperatures)
	if err != nil {
		return experiment.Grid{}, usageError("--temperatures: %v", err)
	}
	m, err := parseValues(f.magnitudes)
	if err != nil {
		return experiment.Grid{}, usageError("--magnitudes: %v", err)
	}
	g := experiment.Grid{Temperatures: t, Magnitudes: m}
	if err := g.Check(); err != nil {
		return g, usageError("%v (--temperatures %q --magnitudes %q)", err, f.temperatures, f.magnitudes)
	}
	return g, nil
}

// parseValues reads a list "a,b,c" or evenly spaced values "lo:hi:n". An empty string is an
// empty list.
func parseValues(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.Contains(s, ":") {
		p := strings.Split(s, ":")
		if len(p) != 3 {
			return nil, fmt.Errorf("%q: want lo:hi:n", s)
		}
		lo, err1 := strconv.ParseFloat(strings.TrimSpace(p[0]), 64)
		hi, err2 := strconv.ParseFloat(strings.TrimSpace(p[1]), 64)
		n, err3 := strconv.Atoi(strings.TrimSpace(p[2]))
		if err1 != nil || err2 != nil || err3 != nil || n < 1 {
			return nil, fmt.Errorf("%q: want lo:hi:n with numbers lo, hi and a count n ≥ 1", s)
		}
		if n > 1 && !(hi > lo) {
			return nil, fmt.Errorf("%q: hi must exceed lo", s)
		}
		return experiment.Spaced(lo, hi, n), nil
	}
	var v []float64
	for _, x := range strings.Split(s, ",") {
		y, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", strings.TrimSpace(x))
		}
		v = append(v, y)
	}
	return v, nil
}

// heldOut is images first … first+count−1 of a set.
func heldOut(ds dataset.Dataset, first, count int) (experiment.Range, error) {
	if first+count > ds.Len() {
		return experiment.Range{}, usageError("--first %d --count %d: %s has only %d images", first, count, ds.Name(), ds.Len())
	}
	return experiment.Range{Data: ds, First: first, Count: count}, nil
}

// progress returns a Tuner.Progress drawing one bar per set, labelled with the set's name.
func (f *tuneFlags) progress(stderr io.Writer, names map[string]string) func(set string, done, total int) {
	bars := map[string]*progress.Bar{}
	return func(set string, done, total int) {
		if _, ok := bars[set]; !ok {
			bars[set] = progress.New(stderr, names[set]+" passes", total, f.quiet)
		}
		bars[set].Set(done)
		if done == total {
			bars[set].Finish()
		}
	}
}

// evalCommand is the odin eval command line that evaluates the chosen cell on the test images.
func (f *tuneFlags) evalCommand(val string, c experiment.Cell) string {
	args := []string{"odin", "eval", "--nn", f.nn}
	for _, name := range []string{"arch", "data", "cache", "in_dataset", "seed", "construction"} {
		if f.given[name] {
			var v string
			switch name {
			case "arch":
				v = f.arch
			case "data":
				v = f.data
			case "cache":
				v = f.cache
			case "in_dataset":
				v = f.in
			case "seed":
				v = strconv.FormatUint(f.seed, 10)
			case "construction":
				v = f.construction
			}
			args = append(args, "--"+name, v)
		}
	}
	args = append(args, f.prep.args()...)
	if val != "none" {
		args = append(args, "--out_dataset", val)
	}
	args = append(args, "--temperature", fmtF(c.Temperature), "--magnitude", fmtF(c.Magnitude))
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (f *tuneFlags) writeReport(w io.Writer, m *models.Model, inName, val string, res *experiment.Tuning) error {
	best := res.BestCell()
	header := [][2]string{
		{"Neural network architecture", m.Name},
		{"In-distribution dataset", displayName(inName)},
	}
	images := fmt.Sprintf("%d to %d", f.first, f.first+f.count-1)
	if val != "none" {
		header = append(header, [2]string{"Validation OOD dataset", displayName(val)}, [2]string{"Held-out images of each", images})
	} else {
		header = append(header, [2]string{"Validation OOD dataset", "none"}, [2]string{"Held-out images", images})
	}
	header = append(header,
		[2]string{"Grid", fmt.Sprintf("%s × %s", plural(len(res.Grid.Temperatures), "temperature"), plural(len(res.Grid.Magnitudes), "magnitude"))},
		[2]string{"Criterion", string(res.Criterion)},
		[2]string{"Temperature", fmtF(best.Temperature)},
		[2]string{"Magnitude", fmtF(best.Magnitude)},
	)
	if res.Criterion == experiment.MaxInScore {
		header = append(header, [2]string{"Mean in-distribution score", fmtF(best.InMean)})
		b := &bytes.Buffer{}
		width := 0
		for _, h := range header {
			width = max(width, len(h[0]))
		}
		for _, h := range header {
			fmt.Fprintf(b, "%-*s %s\n", width+1, h[0]+":", h[1])
		}
		fmt.Fprintln(b, "(ε that maximises the mean ODIN score of the held-out in-distribution images at this temperature: Generalized ODIN's rule; no OOD data used)")
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
	} else if err := metrics.WriteTable(w, header, []string{"Baseline", "Tuned ODIN"}, []metrics.Result{res.Baseline, best.Result}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nEvaluate on the test images with:\n  %s\n", f.evalCommand(val, best))
	return err
}

func (f *tuneFlags) writeJSON(w io.Writer, inName, val string, res *experiment.Tuning) error {
	best := res.BestCell()
	p := best.Result.Percent()
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	obj := map[string]any{
		"nn": f.nn, "in_dataset": inName, "val_dataset": val, "first": f.first, "count_in": res.In, "count_out": res.Out,
		"temperature": best.Temperature, "magnitude": best.Magnitude, "criterion": string(res.Criterion),
		"fpr95": num(p.FPR95), "det_err": num(p.DetErr), "auroc": num(p.AUROC), "aupr_in": num(p.AUPRIn), "aupr_out": num(p.AUPROut),
		"in_score": best.InMean,
	}
	if res.Search != "" {
		obj["search"] = res.Search
	}
	return json.NewEncoder(w).Encode(obj)
}

func fileSafe(s string) string {
	s = filepath.Base(s)
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
