package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/report"
)

func init() {
	register("report", "figures, HTML and Markdown report with confidence intervals from two score files", cmdReport)
}

// reportFlags are the flags of the confidence intervals, shared by odin report, eval and
// metrics.
type ciFlags struct {
	level     float64
	resamples int
	seed      uint64
}

func (c *ciFlags) register(fs interface {
	Float64Var(*float64, string, float64, string)
	IntVar(*int, string, int, string)
	Uint64Var(*uint64, string, uint64, string)
}, level float64) {
	help := "confidence level of the bootstrap intervals, e.g. 0.95 (0: no intervals)"
	if level > 0 {
		help = "confidence level of the bootstrap intervals"
	}
	fs.Float64Var(&c.level, "ci", level, help)
	fs.IntVar(&c.resamples, "resamples", metrics.DefaultResamples, "bootstrap resamples for --ci")
	fs.Uint64Var(&c.seed, "ci-seed", 0, "seed of the bootstrap resamples")
}

func (c *ciFlags) check() error {
	if c.level != 0 && !(c.level > 0 && c.level < 1) {
		return usageError("--ci %g: want a level between 0 and 1, e.g. 0.95", c.level)
	}
	if c.resamples < 2 || c.resamples > 1_000_000 {
		return usageError("--resamples %d: want 2 to 1000000", c.resamples)
	}
	return nil
}

func (c *ciFlags) options(workers int) metrics.BootstrapOptions {
	return metrics.BootstrapOptions{Resamples: c.resamples, Level: c.level, Seed: c.seed, Workers: workers}
}

// cmdReport implements
//
//	odin report IN.csv OUT.csv [--column odin,baseline,…] --out DIR [--ci 0.95] [--resamples N] [--ci-seed S] [--grid FILE.csv]
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report")
	column := fs.String("column", "", "score columns to report, comma-separated (default: every column of IN.csv)")
	out := fs.String("out", "", "folder to write index.html, report.md, report.json and figures/ into (required)")
	title := fs.String("title", "", "title of the report (default: from the run.json beside the score files)")
	baseline := fs.String("baseline", "", "column of the headline figure's baseline (default baseline, else msp)")
	detector := fs.String("detector", "", "column of the headline figure's detector (default odin)")
	checkpoint := fs.String("checkpoint", "", "network checkpoint file to show the SHA-256 of, when the score files do not record it")
	data := fs.String("data", "", "data folder, to find the checkpoint of the network named in run.json (default $ODIN_DATA, else ./data)")
	grid := fs.String("grid", "", "also draw the heat map of a grid file written by odin tune --grid")
	gridMetric := fs.String("grid-metric", "fpr95", "metric of the --grid heat map: fpr95, det_err, auroc, aupr_in, aupr_out (in_score for --val_dataset none)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "worker goroutines for the bootstrap")
	var ci ciFlags
	ci.register(fs, metrics.DefaultLevel)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("want two score files IN.csv OUT.csv, got %d arguments (see odin report --help)", len(pos))
	}
	if *out == "" {
		return usageError("--out DIR is required")
	}
	if err := ci.check(); err != nil {
		return err
	}
	if ci.level == 0 {
		return usageError("--ci 0: odin report always shows intervals; give a level such as 0.95")
	}
	if *workers < 1 || *workers > 256 {
		return usageError("--workers %d: must be from 1 to 256", *workers)
	}
	start := time.Now()
	sf, err := report.ReadScoreFiles(pos[0], pos[1], report.ParseColumns(*column))
	if err != nil {
		return err
	}
	in := report.Input{
		Methods: sf.Methods, Baseline: *baseline, Detector: *detector, Title: *title,
		Command: commandLine("report", args), Params: report.RunParams(sf.Run),
		Bootstrap: ci.options(*workers),
	}
	in.Params = append([][2]string{{"In-distribution scores", pos[0]}, {"OOD scores", pos[1]}}, in.Params...)
	inSet, outSet := report.SetNames(sf.Run)
	in.InName, in.OutName = displayName(inSet), displayName(outSet)
	if in.Title == "" && sf.Run["nn"] != "" && in.InName != "" && in.OutName != "" {
		in.Title = fmt.Sprintf("%s: %s against %s", sf.Run["nn"], in.InName, in.OutName)
	}
	in.Checkpoint, err = reportCheckpoint(sf.Run, *checkpoint, *data)
	if err != nil {
		return err
	}
	if *grid != "" {
		g, err := report.ReadGrid(*grid, *gridMetric)
		if err != nil {
			return err
		}
		g.Title = fmt.Sprintf("%s over temperature × magnitude (%s)", *gridMetric, filepath.Base(*grid))
		in.Grids = append(in.Grids, g)
	}
	r, err := report.Write(ctx, *out, in)
	if err != nil {
		return err
	}
	if err := r.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d methods, %d + %d images, %d resamples, %s)\n",
		filepath.Join(*out, "index.html"), len(r.Methods), r.CountIn, r.CountOut, r.Bootstrap.Resamples, time.Since(start).Round(time.Millisecond))
	return nil
}

// reportCheckpoint is the checkpoint digest a report shows: the one the score files recorded,
// else the SHA-256 of --checkpoint, else that of the network run.json names, as it is now.
func reportCheckpoint(run map[string]string, file, data string) (string, error) {
	if c := run["checkpoint"]; strings.HasPrefix(c, "sha256:") {
		return c, nil
	}
	path := file
	note := ""
	if path == "" {
		if run["nn"] == "" {
			return "", nil
		}
		p, _, err := models.Resolve(run["nn"], datadir.Data(data))
		if err != nil {
			return "", nil // not on this machine: the report says "not recorded"
		}
		path = p
		note = fmt.Sprintf(" (of %s as it is now: the score files record only the network's name %s)", p, run["nn"])
	}
	d, err := decision.Digest(path)
	if err != nil {
		return "", err
	}
	return "sha256:" + d + note, nil
}

// commandLine is "odin NAME ARGS…", each argument quoted for a POSIX shell where it needs it.
func commandLine(name string, args []string) string {
	q := []string{"odin", name}
	for _, a := range args {
		q = append(q, shellQuote(a))
	}
	return strings.Join(q, " ")
}

// heatMap draws a tuning's criterion over its grid with package report: temperatures down,
// magnitudes across, each cell coloured from dark (worst) to bright (best) and labelled with its
// value, the chosen cell framed. val names the validation set in the title.
func heatMap(res *experiment.Tuning, val string) (report.Figure, error) {
	nE := len(res.Grid.Magnitudes)
	g := report.Grid{Rows: res.Grid.Temperatures, Cols: res.Grid.Magnitudes, RowName: "temperature T",
		ColName: "magnitude ε", Best: [2]int{res.Best / nE, res.Best % nE}}
	unit := "%"
	for t := range res.Grid.Temperatures {
		row := make([]float64, nE)
		for e := range row {
			c := res.Cells[t*nE+e]
			p := c.Result.Percent()
			switch res.Criterion {
			case experiment.MinFPR95:
				row[e] = p.FPR95
			case experiment.MinDetErr:
				row[e] = p.DetErr
			case experiment.MaxAUROC:
				row[e], g.HigherIsBetter = p.AUROC, true
			default:
				row[e], g.HigherIsBetter, g.Format, unit = c.InMean, true, "%.5g", "mean in-distribution score"
			}
		}
		g.Values = append(g.Values, row)
	}
	best := res.BestCell()
	g.Title = fmt.Sprintf("%s (%s), validation: %s; best T = %s, ε = %s", res.Criterion, unit, val, fmtF(best.Temperature), fmtF(best.Magnitude))
	return report.HeatMap(g)
}

// writeHeatMap writes odin tune --plot's heat map (heatMap) to path: SVG if it ends in .svg, else
// PNG.
func writeHeatMap(path string, res *experiment.Tuning, val string) error {
	fig, err := heatMap(res, val)
	if err != nil {
		return err
	}
	var b []byte
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		b, err = fig.SVG()
	} else {
		b, err = fig.PNG()
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// intervals computes what --ci and --report ask of odin eval: the report (written to
// --report) and the confidence intervals of each method (nil without --ci).
func (f *evalFlags) intervals(ctx context.Context, args []string, net *experiment.Network, ev *experiment.Eval, o *experiment.Outcome, stderr io.Writer) ([]metrics.ResultCI, error) {
	opt := f.ci.options(f.workers)
	if f.reportDir == "" {
		if f.ci.level == 0 {
			return nil, nil
		}
		iv, err := metrics.Bootstrap(ctx, o.In, o.Out, opt)
		if err != nil {
			return nil, err
		}
		return iv.Methods, nil
	}
	if opt.Level == 0 {
		opt.Level = metrics.DefaultLevel // a report always shows intervals
	}
	inSet := f.inName(net)
	in := report.Input{
		Title:  fmt.Sprintf("%s: %s against %s", f.nn, displayName(inSet), displayName(f.out)),
		InName: displayName(inSet), OutName: displayName(f.out), Command: commandLine("eval", args),
		Params: report.RunParams(ev.Identity), Checkpoint: net.Checkpoint, Bootstrap: opt,
	}
	for d, m := range o.Methods {
		in.Methods = append(in.Methods, report.Method{Name: experiment.Column(m), In: o.In[d], Out: o.Out[d]})
	}
	r, err := report.Write(ctx, f.reportDir, in)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(f.reportDir, "index.html"))
	if f.ci.level == 0 {
		return nil, nil
	}
	var res []metrics.ResultCI
	for _, m := range r.Methods {
		res = append(res, m.CI)
	}
	return res, nil
}

// ciJSON is odin eval's "ci" object: how the intervals were made and, in percent, each method's
// intervals, keyed as the metrics are (baseline and odin for the seed's table, else under
// methods by name).
func (f *evalFlags) ciJSON(o *experiment.Outcome, ci []metrics.ResultCI) map[string]any {
	obj := map[string]any{"level": f.ci.level, "resamples": f.ci.resamples, "seed": f.ci.seed,
		"method": "stratified bootstrap, percentile intervals"}
	if o.SeedTable() {
		obj["baseline"], obj["odin"] = ci[0].Percent(), ci[1].Percent()
		return obj
	}
	m := map[string]metrics.PercentCI{}
	for i, name := range o.Methods {
		m[name] = ci[i].Percent()
	}
	obj["methods"] = m
	return obj
}

// writeTableCI prints odin eval's table with intervals: the seed's two columns, or one row per
// method.
func writeTableCI(w io.Writer, header [][2]string, o *experiment.Outcome, ci []metrics.ResultCI, c ciFlags) error {
	header = append(header, [2]string{"Intervals", fmt.Sprintf("%g%%, stratified bootstrap, %d resamples, seed %d", 100*c.level, c.resamples, c.seed)})
	if o.SeedTable() {
		return metrics.WriteTableCI(w, header, []string{"Baseline", "Our Method"}, ci)
	}
	labels := make([]string, len(o.Methods))
	for i, m := range o.Methods {
		labels[i] = experiment.MethodLabel(m)
	}
	return metrics.WriteRowsCI(w, header, labels, ci)
}

// ciColumns are the CSV columns odin eval --csv --ci adds, in percent.
var ciColumns = []string{"fpr95_ci_low", "fpr95_ci_high", "det_err_ci_low", "det_err_ci_high", "auroc_ci_low", "auroc_ci_high",
	"aupr_in_ci_low", "aupr_in_ci_high", "aupr_out_ci_low", "aupr_out_ci_high"}

func ciCells(r metrics.ResultCI) []string {
	p := r.Percent()
	var c []string
	for _, v := range []metrics.IntervalPercent{p.FPR95, p.DetErr, p.AUROC, p.AUPRIn, p.AUPROut} {
		c = append(c, fmtF(v.Low), fmtF(v.High))
	}
	return c
}
