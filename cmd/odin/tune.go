package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/gemm"
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
	grid, plot                          string
	json, quiet, fresh                  bool
	given                               map[string]bool
}

func cmdTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tune")
	var f tuneFlags
	f.netFlags.register(fs, "densenet10", 8)
	fs.StringVar(&f.in, "in_dataset", "", "in-distribution set (default: the network's, cifar10 or cifar100)")
	fs.StringVar(&f.val, "val_dataset", "Imagenet", "validation OOD set, several separated by commas (each tuned separately), or none to choose ε from in-distribution images alone")
	fs.StringVar(&f.temperatures, "temperatures", paperTemperatures, "temperatures to try: a list a,b,c or lo:hi:n (n evenly spaced values); with --val_dataset none one value, default 1000")
	fs.StringVar(&f.magnitudes, "magnitudes", "0:0.004:21", "magnitudes ε to try: a list a,b,c or lo:hi:n (n evenly spaced values); with --val_dataset none default "+godinMagnitudes)
	fs.StringVar(&f.criterion, "criterion", "fpr95", "what to optimise: fpr95, det_err or auroc (in_score with --val_dataset none)")
	fs.IntVar(&f.first, "first", 0, "first held-out image of each set")
	fs.IntVar(&f.count, "count", 1000, "held-out images of each set")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the noise sets and of built crops")
	fs.StringVar(&f.cache, "cache", "", "folder of built OOD sets and of grid scores, under tune/ (default $ODIN_CACHE, else the user cache folder)")
	fs.StringVar(&f.construction, "construction", "seed", "how a missing Tiny-ImageNet/LSUN set is built: seed or clean")
	fs.StringVar(&f.grid, "grid", "", "write every cell's metrics to this CSV file")
	fs.StringVar(&f.plot, "plot", "", "write a heat map of the criterion to this PNG file (one per validation set, named after it, when there are several)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per validation set instead of the table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.fresh, "fresh", false, "score again instead of reusing grid scores kept in the cache by earlier or interrupted runs")
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
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
	vals := strings.Split(f.val, ",")
	inOnly := f.val == "none"
	for _, v := range vals {
		if v == "" || (v == "none" && !inOnly) {
			return usageError("--val_dataset %q: name OOD sets separated by commas, or none alone", f.val)
		}
	}
	if inOnly && !f.given["temperatures"] {
		f.temperatures = "1000"
	}
	if inOnly && !f.given["magnitudes"] {
		f.magnitudes = godinMagnitudes
	}
	grid, err := f.parseGrid()
	if err != nil {
		return err
	}
	crit, err := experiment.ParseCriterion(f.criterion)
	if err != nil {
		return usageError("--criterion: %v", err)
	}
	switch {
	case inOnly && f.given["criterion"] && crit != experiment.MaxInScore:
		return usageError("--criterion %s needs OOD data; with --val_dataset none the criterion is in_score", crit)
	case inOnly:
		crit = experiment.MaxInScore
		if len(grid.Temperatures) != 1 {
			return usageError("--val_dataset none chooses ε at one fixed temperature: give one --temperatures value, got %d", len(grid.Temperatures))
		}
	case crit == experiment.MaxInScore:
		return usageError("--criterion in_score is for --val_dataset none")
	}

	m, known, err := f.load()
	if err != nil {
		return err
	}
	inName := f.in
	if inName == "" {
		inName = known.InSet
	}
	if !inOnly {
		for _, v := range vals {
			if v == inName {
				return usageError("--val_dataset %s is the in-distribution set: validate on an OOD set", v)
			}
		}
	}
	data := datadir.Data(f.data)
	inSet, err := dataset.Open(inName, dataset.Options{Data: data, Count: f.first + f.count, Seed: f.seed})
	if err != nil {
		return err
	}
	inR, err := heldOut(inSet, f.first, f.count)
	if err != nil {
		return err
	}
	var valR []experiment.Range
	if !inOnly {
		for _, v := range vals {
			ds, err := f.openOOD(ctx, v, inSet.Len(), stderr)
			if err != nil {
				return err
			}
			r, err := heldOut(ds, f.first, f.count)
			if err != nil {
				return err
			}
			valR = append(valR, r)
		}
	}

	tu, err := experiment.NewTuner(m, grid, crit, f.workers, f.batch)
	if err != nil {
		return err
	}
	// Grid scores are kept in the cache as they are computed: a rerun, a run against another
	// validation set and an interrupted run all pick them up.
	if cache, err := datadir.Cache(f.cache); err == nil && !f.fresh {
		tu.CacheDir = filepath.Join(cache, "tune")
		tu.Identity = map[string]string{"network": m.Name, "checkpoint": f.checkpointIdentity(), "kernel": gemm.Kernel(),
			"seed": strconv.FormatUint(f.seed, 10)}
	}
	start := time.Now()
	var results []*experiment.Tuning
	if inOnly {
		tu.Progress = f.progress(stderr, map[string]string{"in": inName})
		res, err := tu.TuneInOnly(ctx, inR)
		if errors.Is(err, context.Canceled) && tu.CacheDir != "" {
			fmt.Fprintf(stderr, "scores so far kept in %s: run the same command again to resume\n", tu.CacheDir)
		}
		if err != nil {
			return err
		}
		results = append(results, res)
	} else {
		for i, r := range valR {
			tu.Progress = f.progress(stderr, map[string]string{"in": inName, "out": vals[i]})
			res, err := tu.Tune(ctx, inR, r)
			if errors.Is(err, context.Canceled) && tu.CacheDir != "" {
				fmt.Fprintf(stderr, "scores so far kept in %s: run the same command again to resume\n", tu.CacheDir)
			}
			if err != nil {
				return err
			}
			results = append(results, res)
		}
	}
	var fwd, bwd, resumed int
	for _, r := range append([]experiment.Range{inR}, valR...) {
		s, _ := tu.Scores(ctx, "", r)
		fwd += s.Forward
		bwd += s.Backward
		resumed += s.Resumed
	}
	note := ""
	if resumed > 0 {
		note = fmt.Sprintf(" (%d images' scores reused from %s)", resumed, tu.CacheDir)
	}
	fmt.Fprintf(stderr, "searched %d cells in %s: %d forward and %d backward image passes%s\n", grid.Len(), time.Since(start).Round(time.Second), fwd, bwd, note)

	if !inOnly {
		vals = vals[:len(results)]
	} else {
		vals = []string{"none"}
	}
	if f.grid != "" {
		if err := writeGridCSV(f.grid, vals, results); err != nil {
			return err
		}
	}
	if f.plot != "" {
		for i, res := range results {
			path := f.plot
			if len(results) > 1 {
				ext := filepath.Ext(path)
				path = strings.TrimSuffix(path, ext) + "-" + fileSafe(vals[i]) + ext
			}
			if err := writeHeatMap(path, res, displayName(vals[i])); err != nil {
				return err
			}
		}
	}
	for i, res := range results {
		if f.json {
			if err := f.writeJSON(stdout, inName, vals[i], res); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := f.writeReport(stdout, m, inName, vals[i], res); err != nil {
			return err
		}
	}
	for i, res := range results {
		best, top := res.BestCell(), slices.Max(grid.Magnitudes)
		if best.Magnitude == top && len(grid.Magnitudes) > 1 {
			fmt.Fprintf(stderr, "note: %s: the chosen ε %s is the largest tried; a larger one may be better: widen --magnitudes\n", vals[i], fmtF(top))
		}
	}
	if f.first+f.count > 1000 {
		fmt.Fprintf(stderr, "note: the held-out images %d to %d overlap the images odin eval scores by default (1000 onwards)\n", f.first, f.first+f.count-1)
	}
	return nil
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

// openOOD opens an OOD set, building a missing Tiny-ImageNet or LSUN set into the cache.
func (f *tuneFlags) openOOD(ctx context.Context, name string, count int, stderr io.Writer) (dataset.Dataset, error) {
	opt := dataset.Options{Data: datadir.Data(f.data), Cache: f.cache, Count: max(count, f.first+f.count), Seed: f.seed,
		Construction: f.construction, Build: true, Workers: f.workers}
	var bar *progress.Bar
	started := false
	opt.Progress = func(done, total int) {
		if !started {
			started = true
			fmt.Fprintf(stderr, "building %s (%s construction) into the cache\n", name, f.construction)
			bar = progress.New(stderr, "build", total, f.quiet)
		}
		bar.Set(done)
	}
	ds, err := dataset.OpenContext(ctx, name, opt)
	if started {
		bar.Finish()
	}
	return ds, err
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
	return json.NewEncoder(w).Encode(obj)
}

// writeGridCSV writes every cell; with several validation sets a first column names the set.
func writeGridCSV(path string, vals []string, results []*experiment.Tuning) error {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	for i, res := range results {
		header, rows := res.Rows()
		if len(results) > 1 {
			header = append([]string{"val_dataset"}, header...)
			for j := range rows {
				rows[j] = append([]string{vals[i]}, rows[j]...)
			}
		}
		if i == 0 {
			cw.Write(header)
		}
		cw.WriteAll(rows)
	}
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
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

// writeHeatMap draws the criterion over the grid: temperatures down, magnitudes across, each cell
// coloured from dark (worst) to bright (best) and labelled with its value; the chosen cell is
// framed.
func writeHeatMap(path string, res *experiment.Tuning, val string) error {
	nT, nE := len(res.Grid.Temperatures), len(res.Grid.Magnitudes)
	value := func(c experiment.Cell) (v float64, label string) {
		p := c.Result.Percent()
		switch res.Criterion {
		case experiment.MinFPR95:
			return -p.FPR95, fmt.Sprintf("%.1f", p.FPR95)
		case experiment.MinDetErr:
			return -p.DetErr, fmt.Sprintf("%.1f", p.DetErr)
		case experiment.MaxAUROC:
			return p.AUROC, fmt.Sprintf("%.1f", p.AUROC)
		}
		return c.InMean, strconv.FormatFloat(c.InMean, 'g', 5, 64)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range res.Cells {
		v, _ := value(c)
		lo, hi = min(lo, v), max(hi, v)
	}
	const ch, left, top, bottom, right = 22, 64, 44, 56, 16
	cw := 46
	if res.Criterion == experiment.MaxInScore {
		cw = 58 // room for five digits
	}
	face := basicfont.Face7x13
	textW := func(s string) int { return font.MeasureString(face, s).Ceil() }
	img := image.NewRGBA(image.Rect(0, 0, left+nE*cw+right, top+nT*ch+bottom))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(x, y int, s string, c color.Color) {
		d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	best := res.BestCell()
	unit := "%"
	if res.Criterion == experiment.MaxInScore {
		unit = "mean in-distribution score"
	}
	text(8, 16, fmt.Sprintf("%s (%s), validation: %s", res.Criterion, unit, val), color.Black)
	text(8, 32, fmt.Sprintf("best: T = %s, e = %s", fmtF(best.Temperature), fmtF(best.Magnitude)), color.Black)
	for i, c := range res.Cells {
		t, e := i/nE, i%nE
		v, label := value(c)
		x := 0.5
		if hi > lo {
			x = (v - lo) / (hi - lo)
		}
		bg := ramp(x)
		r := image.Rect(left+e*cw, top+t*ch, left+(e+1)*cw, top+(t+1)*ch)
		draw.Draw(img, r, image.NewUniform(bg), image.Point{}, draw.Src)
		fg := color.Color(color.White)
		if 0.299*float64(bg.R)+0.587*float64(bg.G)+0.114*float64(bg.B) > 140 {
			fg = color.Black
		}
		text(r.Min.X+(cw-textW(label))/2, r.Min.Y+15, label, fg)
		if i == res.Best {
			red := image.NewUniform(color.RGBA{220, 20, 20, 255})
			for _, b := range []image.Rectangle{
				{r.Min, image.Pt(r.Max.X, r.Min.Y+2)}, {image.Pt(r.Min.X, r.Max.Y-2), r.Max},
				{r.Min, image.Pt(r.Min.X+2, r.Max.Y)}, {image.Pt(r.Max.X-2, r.Min.Y), r.Max},
			} {
				draw.Draw(img, b, red, image.Point{}, draw.Src)
			}
		}
	}
	for t, T := range res.Grid.Temperatures {
		s := fmtF(T)
		text(left-6-textW(s), top+t*ch+15, s, color.Black)
	}
	// Label as many magnitudes as fit without overlapping.
	stride := 1
	for _, e := range res.Grid.Magnitudes {
		for textW(fmtF(e))+6 > stride*cw {
			stride++
		}
	}
	for e := 0; e < nE; e += stride {
		s := fmtF(res.Grid.Magnitudes[e])
		text(left+e*cw+(cw-textW(s))/2, top+nT*ch+16, s, color.Black)
	}
	text(left, top+nT*ch+40, "magnitude e (across), temperature T (down)", color.Black)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// ramp maps x in [0, 1] to a colour from dark blue through teal and green to yellow, a
// perceptually ordered scale that reads in grey too.
func ramp(x float64) color.RGBA {
	stops := [][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}
	x = min(max(x, 0), 1) * float64(len(stops)-1)
	i := min(int(x), len(stops)-2)
	f := x - float64(i)
	var c [3]uint8
	for k := range 3 {
		c[k] = uint8(math.Round(stops[i][k] + f*(stops[i+1][k]-stops[i][k])))
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}
