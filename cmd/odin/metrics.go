package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/scorefile"
)

func init() {
	register("metrics", "recompute the five OOD metrics from two score files", runMetrics)
}

// runMetrics implements
//
//	odin metrics IN.csv OUT.csv [--column odin] [--positive in|out] [--reference-compat [--ref-grid G]] [--ci 0.95] [--json]
func runMetrics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("metrics")
	column := fs.String("column", "odin", "score `column` to evaluate")
	positive := fs.String("positive", "in", "positive class: in (the paper's convention) or out (OpenOOD's)")
	asJSON := fs.Bool("json", false, `print one JSON object {"fpr95", "det_err", "auroc", "aupr_in", "aupr_out"} in percent`)
	refCompat := fs.Bool("reference-compat", false, "sweep the threshold grid of the paper's evaluation script instead of computing exact metrics")
	refGrid := fs.String("ref-grid", "", "grid for --reference-compat: baseline-cifar10, baseline-cifar100, odin-cifar10, odin-cifar100 or START,END\n(default baseline-cifar10 for the column baseline, else odin-cifar10)")
	var ci ciFlags
	ci.register(fs, 0)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("want two score files IN.csv OUT.csv, got %d arguments (see odin metrics --help)", len(pos))
	}
	opt := metrics.Options{ReferenceCompat: *refCompat}
	switch *positive {
	case "in":
		opt.Positive = metrics.In
	case "out":
		opt.Positive = metrics.Out
	default:
		return usageError("--positive %q: want in or out", *positive)
	}
	if *refGrid != "" && !*refCompat {
		return usageError("--ref-grid needs --reference-compat")
	}
	if err := ci.check(); err != nil {
		return err
	}
	if ci.level > 0 && *refCompat {
		return usageError("--ci computes intervals of the exact metrics, not of --reference-compat")
	}
	if *refCompat {
		if opt.Positive != metrics.In {
			return usageError("--reference-compat is defined only with --positive in")
		}
		name := *refGrid
		if name == "" {
			name = "odin-cifar10"
			if *column == "baseline" {
				name = "baseline-cifar10"
			}
			fmt.Fprintf(stderr, "odin metrics: note: reference grid %s (set --ref-grid for CIFAR-100 or other scores)\n", name)
		}
		if opt.Grid, err = parseGrid(name); err != nil {
			return err
		}
	}

	in, err := readColumn(pos[0], *column)
	if err != nil {
		return err
	}
	out, err := readColumn(pos[1], *column)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := metrics.Compute(in, out, opt)
	if err != nil {
		return err
	}
	if *refCompat && math.IsNaN(res.FPR95) {
		fmt.Fprintln(stderr, "odin metrics: note: no grid threshold has a TPR within [0.9495, 0.9505], so FPR at TPR 95% is undefined")
	}

	var iv *metrics.Intervals
	if ci.level > 0 {
		bo := ci.options(runtime.GOMAXPROCS(0))
		bo.Positive = opt.Positive
		if iv, err = metrics.Bootstrap(ctx, [][]float64{in}, [][]float64{out}, bo); err != nil {
			return err
		}
	}
	if *asJSON {
		if iv != nil {
			return json.NewEncoder(stdout).Encode(withCI(res.Percent(), iv, 0))
		}
		return json.NewEncoder(stdout).Encode(res.Percent())
	}
	mode := "exact"
	if *refCompat {
		mode = fmt.Sprintf("reference grid [%g, %g]", opt.Grid.Start, opt.Grid.End)
	}
	header := [][2]string{
		{"In-distribution", fmt.Sprintf("%s (%d scores)", pos[0], len(in))},
		{"Out-of-distribution", fmt.Sprintf("%s (%d scores)", pos[1], len(out))},
		{"Positive class", opt.Positive.String()},
		{"Thresholds", mode},
	}
	if iv != nil {
		header = append(header, [2]string{"Intervals", ciText(iv)})
		return metrics.WriteTableCI(stdout, header, []string{*column}, iv.Methods)
	}
	return metrics.WriteTable(stdout, header, []string{*column}, []metrics.Result{res})
}

// withCI adds to a metrics JSON object (today's keys, kept, in their order) the key "ci": the
// bootstrap's level, resamples and seed and, per metric, {"value", "ci_low", "ci_high"} in
// percent.
func withCI(p metrics.Percent, iv *metrics.Intervals, method int) json.RawMessage {
	b, _ := json.Marshal(p)
	c, _ := json.Marshal(struct {
		Level     float64 `json:"level"`
		Resamples int     `json:"resamples"`
		Seed      uint64  `json:"seed"`
		Method    string  `json:"method"`
		metrics.PercentCI
	}{iv.Level, iv.Resamples, iv.Seed, "stratified bootstrap, percentile intervals", iv.Methods[method].Percent()})
	return json.RawMessage(string(b[:len(b)-1]) + `,"ci":` + string(c) + "}")
}

// ciText describes the intervals of a table.
func ciText(iv *metrics.Intervals) string {
	return fmt.Sprintf("%g%%, stratified bootstrap, %d resamples, seed %d", 100*iv.Level, iv.Resamples, iv.Seed)
}

// readColumn reads one score column and rejects what metrics cannot evaluate, naming the line.
func readColumn(path, column string) ([]float64, error) {
	if collection.IsScoreFile(path) {
		return readScoreColumn(path, column) // a file of odin score or odin merge
	}
	f, err := scorefile.Read(path)
	if err != nil {
		return nil, err
	}
	v, err := f.Column(column)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("scores %s: no rows", path)
	}
	for r, x := range v {
		if math.IsNaN(x) {
			return nil, fmt.Errorf("scores %s:%d: NaN in column %s (index %d)", path, r+2, column, f.Index[r])
		}
	}
	return v, nil
}

// parseGrid parses a --ref-grid value: a paper grid's name or START,END.
func parseGrid(s string) (metrics.Grid, error) {
	if det, data, ok := strings.Cut(s, "-cifar"); ok {
		classes, err := strconv.Atoi(data)
		if err == nil {
			if g, err := metrics.PaperGrid(det, classes); err == nil {
				return g, nil
			}
		}
	}
	a, b, ok := strings.Cut(s, ",")
	start, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	end, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil || !(start < end) || math.IsInf(start, 0) || math.IsInf(end, 0) {
		return metrics.Grid{}, usageError("--ref-grid %q: want baseline-cifar10, baseline-cifar100, odin-cifar10, odin-cifar100 or START,END with START < END", s)
	}
	// A custom range stands for rescaled ODIN scores, so it compares like the ODIN grids.
	return metrics.Grid{Start: start, End: end, InclusiveAUROC: true}, nil
}
