package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

func init() {
	register("reproduce", "run every row of the ODIN paper's Table 2 that the data allows, paper beside ours", cmdReproduce)
}

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce")
	var nf netFlags
	nf.register(fs, "densenet10,densenet100,wideresnet10,wideresnet100", 8)
	outSets := fs.String("out_dataset", "all", "OOD sets, comma-separated, or all")
	constructions := fs.String("construction", "seed", "how the Tiny-ImageNet and LSUN sets are built: seed, clean, or seed,clean")
	first := fs.Int("first", 1000, "first image of each set to score")
	count := fs.Int("count", 0, "images to score from each set (default: the rest)")
	cache := fs.String("cache", "", "folder of built OOD sets (default $ODIN_CACHE, else the user cache folder)")
	seed := fs.Uint64("seed", 0, "seed of the noise sets and of built crops")
	quiet := fs.Bool("quiet", false, "no progress bars")
	temperature := fs.Float64("temperature", 1000, "temperature T of every row")
	magnitude := fs.Float64("magnitude", 0, "ε of every row (default: the seed's ε of each row)")
	tuned := fs.String("tuned", "", "take T and ε for every row from this file: the output of odin tune --json (tuned on one validation set: the paper's protocol (b)) or an odin calibrate file")
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if err := nf.check(); err != nil {
		return err
	}
	if *first < 0 || *count < 0 {
		return usageError("--first and --count must not be negative")
	}
	// One (T, ε) for every row replaces the paper's per-row choice.
	fixedEps := given["magnitude"]
	if *tuned != "" {
		if given["temperature"] || fixedEps {
			return usageError("--tuned sets T and ε: give it without --temperature and --magnitude")
		}
		tunedNN, t, eps, err := readTuneJSON(*tuned)
		if err != nil {
			return err
		}
		if tunedNN != "" && nf.nn != tunedNN {
			return usageError("--tuned %s was tuned on %s: give --nn %s", *tuned, tunedNN, tunedNN)
		}
		*temperature, *magnitude = t, eps
		fixedEps = true
	}
	if !(*temperature > 0) || math.IsInf(*temperature, 0) {
		return usageError("--temperature %g: must be a positive number", *temperature)
	}
	if !(*magnitude >= 0) || math.IsInf(*magnitude, 0) {
		return usageError("--magnitude %g: must be a number ≥ 0", *magnitude)
	}
	rows, err := experiment.PaperTable()
	if err != nil {
		return err
	}
	nets := strings.Split(nf.nn, ",")
	sets := map[string]bool{}
	if *outSets != "all" {
		for _, s := range strings.Split(*outSets, ",") {
			sets[s] = true
		}
	}
	cons := strings.Split(*constructions, ",")
	for _, c := range cons {
		if c != "seed" && c != "clean" {
			return usageError("--construction %q: use seed, clean or seed,clean", c)
		}
	}

	switch {
	case fixedEps:
		fmt.Fprintf(stdout, "Paper / ours, in percent; ours with T = %g and ε = %g on every row, the paper's with T = 1000 and the seed's ε (column ε). In-distribution is the positive class.\n", *temperature, *magnitude)
	case *temperature != 1000:
		fmt.Fprintf(stdout, "Paper / ours, in percent; ours with T = %g and the seed's ε, the paper's with T = 1000. In-distribution is the positive class.\n", *temperature)
	default:
		fmt.Fprintln(stdout, "Paper / ours, in percent; T = 1000 and the seed's ε. In-distribution is the positive class.")
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| network | OOD set | built | ε | FPR95 base | FPR95 ODIN | det. err. base | det. err. ODIN | AUROC base | AUROC ODIN | AUPR-In base | AUPR-In ODIN | AUPR-Out base | AUPR-Out ODIN | images | time |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

	loaded := map[string]*models.Model{}
	for _, net := range nets {
		for _, row := range rows {
			if row.Network != net || (len(sets) > 0 && !sets[row.OutSet]) {
				continue
			}
			rowCons := []string{"—"}
			if _, built := dataset.Layout(row.OutSet); built && row.OutSet != "iSUN" {
				rowCons = cons
			}
			for _, con := range rowCons {
				start := time.Now()
				prefix := fmt.Sprintf("| %s | %s | %s | %g |", row.Network, displayName(row.OutSet), con, row.Epsilon)
				// Each row is the evaluation odin eval runs, with the same scores cache, so the
				// in-distribution scores are computed once and a rerun reads every row back.
				eps := row.Epsilon
				if fixedEps {
					eps = *magnitude
				}
				f := evalFlags{netFlags: nf, out: row.OutSet, in: row.InSet, cache: *cache, construction: con,
					magnitude: eps, temperature: *temperature, first: *first, count: *count, seed: *seed, quiet: *quiet}
				f.nn = net
				if con == "—" {
					f.construction = "seed"
				}
				m, known, err := f.load()
				if err != nil {
					fmt.Fprintf(stdout, "%s missing: %s |||||||||||\n", prefix, oneLine(err))
					continue
				}
				if loaded[net] == nil {
					loaded[net] = m
				}
				ev, err := f.setup(ctx, loaded[net], known, stderr)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					fmt.Fprintf(stdout, "%s missing: %s |||||||||||\n", prefix, oneLine(err))
					continue
				}
				ev.Progress = progressBars(stderr, *quiet)
				o, err := ev.Run(ctx)
				if err != nil {
					return err
				}
				b, od := o.Results[0].Percent(), o.Results[1].Percent()
				pb, po := row.Baseline.Percent(), row.ODIN.Percent()
				cell := func(paper, ours float64) string { return fmt.Sprintf(" %.1f / %.1f |", paper, ours) }
				line := prefix + cell(pb.FPR95, b.FPR95) + cell(po.FPR95, od.FPR95) + cell(pb.DetErr, b.DetErr) + cell(po.DetErr, od.DetErr) +
					cell(pb.AUROC, b.AUROC) + cell(po.AUROC, od.AUROC) + cell(pb.AUPRIn, b.AUPRIn) + cell(po.AUPRIn, od.AUPRIn) +
					cell(pb.AUPROut, b.AUPROut) + cell(po.AUPROut, od.AUPROut)
				took := time.Since(start).Round(time.Second).String()
				if o.Resumed == ev.In.Count+ev.Out.Count {
					took = "cached"
				} else if o.Resumed > 0 {
					took += fmt.Sprintf(" (%d scores cached)", o.Resumed)
				}
				fmt.Fprintf(stdout, "%s %d + %d | %s |\n", line, ev.In.Count, ev.Out.Count, took)
			}
		}
	}
	return nil
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n", " "), "|", "/")
}
