package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
)

func init() {
	register("reproduce", "run every row of the ODIN paper's Table 2 that the data allows, paper beside ours", cmdReproduce)
}

// reproduceFlags are the flags of odin reproduce.
type reproduceFlags struct {
	netFlags
	outSets, constructions, cache, tuned string
	first, count                         int
	seed                                 uint64
	quiet                                bool
	temperature, magnitude               float64
	fixedEps                             bool // one ε for every row (--magnitude or --tuned)
	sets                                 map[string]bool
	cons                                 []string
}

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f reproduceFlags
	if err := f.parse(args, stdout); err != nil {
		return err
	}
	rows, err := experiment.PaperTable()
	if err != nil {
		return err
	}
	f.writeHeader(stdout)
	for _, nn := range strings.Split(f.nn, ",") {
		if err := f.runNetwork(ctx, nn, rows, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// parse registers, parses and checks the flags, and takes T and ε from --tuned.
func (f *reproduceFlags) parse(args []string, stdout io.Writer) error {
	fs := newFlags("reproduce")
	f.netFlags.register(fs, "densenet10,densenet100,wideresnet10,wideresnet100", 8)
	fs.StringVar(&f.outSets, "out_dataset", "all", "OOD sets, comma-separated, or all")
	fs.StringVar(&f.constructions, "construction", "seed", "how the Tiny-ImageNet and LSUN sets are built: seed, clean, or seed,clean")
	fs.IntVar(&f.first, "first", 1000, "first image of each set to score")
	fs.IntVar(&f.count, "count", 0, "images to score from each set (default: the rest)")
	fs.StringVar(&f.cache, "cache", "", "folder of built OOD sets (default $ODIN_CACHE, else the user cache folder)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the noise sets and of built crops")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bars")
	fs.Float64Var(&f.temperature, "temperature", 1000, "temperature T of every row")
	fs.Float64Var(&f.magnitude, "magnitude", 0, "ε of every row (default: the seed's ε of each row)")
	fs.StringVar(&f.tuned, "tuned", "", "take T and ε for every row from this file: the output of odin tune --json (tuned on one validation set: the paper's protocol (b)) or an odin calibrate file")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if err := f.netFlags.check(); err != nil {
		return err
	}
	if f.first < 0 || f.count < 0 {
		return usageError("--first and --count must not be negative")
	}
	f.fixedEps = given["magnitude"]
	if f.tuned != "" {
		if given["temperature"] || f.fixedEps {
			return usageError("--tuned sets T and ε: give it without --temperature and --magnitude")
		}
		tunedNN, t, eps, err := readTuneJSON(f.tuned)
		if err != nil {
			return err
		}
		if tunedNN != "" && f.nn != tunedNN {
			return usageError("--tuned %s was tuned on %s: give --nn %s", f.tuned, tunedNN, tunedNN)
		}
		f.temperature, f.magnitude, f.fixedEps = t, eps, true
	}
	if err := checkODINFlags(f.temperature, f.magnitude); err != nil {
		return err
	}
	f.sets = map[string]bool{}
	if f.outSets != "all" {
		for _, s := range strings.Split(f.outSets, ",") {
			f.sets[s] = true
		}
	}
	f.cons = strings.Split(f.constructions, ",")
	for _, c := range f.cons {
		if c != "seed" && c != "clean" {
			return usageError("--construction %q: use seed, clean or seed,clean", c)
		}
	}
	return nil
}

func (f *reproduceFlags) writeHeader(stdout io.Writer) {
	switch {
	case f.fixedEps:
		fmt.Fprintf(stdout, "Paper / ours, in percent; ours with T = %g and ε = %g on every row, the paper's with T = 1000 and the seed's ε (column ε). In-distribution is the positive class.\n", f.temperature, f.magnitude)
	case f.temperature != 1000:
		fmt.Fprintf(stdout, "Paper / ours, in percent; ours with T = %g and the seed's ε, the paper's with T = 1000. In-distribution is the positive class.\n", f.temperature)
	default:
		fmt.Fprintln(stdout, "Paper / ours, in percent; T = 1000 and the seed's ε. In-distribution is the positive class.")
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| network | OOD set | built | ε | FPR95 base | FPR95 ODIN | det. err. base | det. err. ODIN | AUROC base | AUROC ODIN | AUPR-In base | AUPR-In ODIN | AUPR-Out base | AUPR-Out ODIN | images | time |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
}

// runNetwork prints every selected row of one network, loading its checkpoint once.
func (f *reproduceFlags) runNetwork(ctx context.Context, nn string, rows []experiment.PaperRow, stdout, stderr io.Writer) error {
	nf := f.netFlags
	nf.nn = nn
	net, loadErr := nf.network(stderr)
	for _, row := range rows {
		if row.Network != nn || (len(f.sets) > 0 && !f.sets[row.OutSet]) {
			continue
		}
		rowCons := []string{"—"}
		if _, built := dataset.Layout(row.OutSet); built && row.OutSet != "iSUN" {
			rowCons = f.cons
		}
		for _, con := range rowCons {
			prefix := fmt.Sprintf("| %s | %s | %s | %g |", row.Network, displayName(row.OutSet), con, row.Epsilon)
			if loadErr != nil {
				fmt.Fprintf(stdout, "%s missing: %s |||||||||||\n", prefix, oneLine(loadErr))
				continue
			}
			if con == "—" {
				con = "seed"
			}
			line, err := f.runRow(ctx, net, row, con, stderr)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				fmt.Fprintf(stdout, "%s missing: %s |||||||||||\n", prefix, oneLine(err))
				continue
			}
			fmt.Fprintf(stdout, "%s%s\n", prefix, line)
		}
	}
	return nil
}

// runRow evaluates one row of the table (experiment.NewEval, with the cache odin eval uses, so
// the in-distribution scores are computed once and a rerun reads every row back) and returns
// its cells, paper beside ours.
func (f *reproduceFlags) runRow(ctx context.Context, net *experiment.Network, row experiment.PaperRow, con string, stderr io.Writer) (string, error) {
	start := time.Now()
	data := datadir.Data(f.data)
	in, err := dataset.Open(row.InSet, dataset.Options{Data: data})
	if err != nil {
		return "", err
	}
	out, err := openOOD(ctx, row.OutSet, dataset.Options{Data: data, Cache: f.cache, Count: in.Len(), Seed: f.seed,
		Construction: con, Build: true, Workers: f.workers}, stderr, f.quiet, net)
	if err != nil {
		return "", err
	}
	s := experiment.Setup{Net: net, Temperature: f.temperature, Magnitude: row.Epsilon, InSet: row.InSet, OutSet: row.OutSet,
		Construction: con, Seed: f.seed, Workers: f.workers, Batch: f.batch}
	if f.fixedEps {
		s.Magnitude = f.magnitude
	}
	if s.In, err = experiment.NewRange(in, f.first, f.count); err != nil {
		return "", err
	}
	if s.Out, err = experiment.NewRange(out, f.first, f.count); err != nil {
		return "", err
	}
	if cache, err := datadir.Cache(f.cache); err == nil {
		s.Cache = cache
	}
	ev, err := experiment.NewEval(s)
	if err != nil {
		return "", err
	}
	ev.Progress = progressBars(stderr, f.quiet)
	o, err := ev.Run(ctx)
	if err != nil {
		return "", err
	}
	return paperCells(row, o) + f.took(o, ev, time.Since(start)), nil
}

// paperCells are the paper's and our five metrics, baseline and ODIN.
func paperCells(row experiment.PaperRow, o *experiment.Outcome) string {
	b, od := o.Results[0].Percent(), o.Results[1].Percent()
	pb, po := row.Baseline.Percent(), row.ODIN.Percent()
	cell := func(paper, ours float64) string { return fmt.Sprintf(" %.1f / %.1f |", paper, ours) }
	return cell(pb.FPR95, b.FPR95) + cell(po.FPR95, od.FPR95) + cell(pb.DetErr, b.DetErr) + cell(po.DetErr, od.DetErr) +
		cell(pb.AUROC, b.AUROC) + cell(po.AUROC, od.AUROC) + cell(pb.AUPRIn, b.AUPRIn) + cell(po.AUPRIn, od.AUPRIn) +
		cell(pb.AUPROut, b.AUPROut) + cell(po.AUPROut, od.AUPROut)
}

// took is the images and time columns: "cached" when every score was read back.
func (f *reproduceFlags) took(o *experiment.Outcome, ev *experiment.Eval, d time.Duration) string {
	t := d.Round(time.Second).String()
	if o.Resumed == ev.In.Count+ev.Out.Count {
		t = "cached"
	} else if o.Resumed > 0 {
		t += fmt.Sprintf(" (%d scores cached)", o.Resumed)
	}
	return fmt.Sprintf(" %d + %d | %s |", ev.In.Count, ev.Out.Count, t)
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n", " "), "|", "/")
}
