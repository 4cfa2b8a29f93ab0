package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
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
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *first < 0 || *count < 0 {
		return usageError("--first and --count must not be negative")
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
	data := datadir.Data(nf.data)

	fmt.Fprintln(stdout, "Paper / ours, in percent; T = 1000 and the seed's ε. In-distribution is the positive class.")
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| network | OOD set | built | ε | FPR95 base | FPR95 ODIN | det. err. base | det. err. ODIN | AUROC base | AUROC ODIN | AUPR-In base | AUPR-In ODIN | AUPR-Out base | AUPR-Out ODIN | images | time |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

	type inKey struct {
		net string
		eps float64
	}
	inScores := map[inKey][][]float64{}
	modelsByName := map[string]*models.Model{}
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
				missing := func(why error) {
					fmt.Fprintf(stdout, "%s missing: %s |||||||||||\n", prefix, oneLine(why))
				}
				m := modelsByName[net]
				if m == nil {
					path, _, err := models.Resolve(net, data)
					if err != nil {
						missing(err)
						continue
					}
					if m, err = models.Load(path, ""); err != nil {
						missing(err)
						continue
					}
					modelsByName[net] = m
				}
				in, err := dataset.Open(row.InSet, dataset.Options{Data: data})
				if err != nil {
					missing(err)
					continue
				}
				c := con
				if c == "—" {
					c = "seed"
				}
				out, err := dataset.OpenContext(ctx, row.OutSet, dataset.Options{Data: data, Cache: *cache, Count: in.Len(),
					Seed: *seed, Construction: c, Build: true, Workers: nf.workers})
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					missing(err)
					continue
				}
				scorer := experiment.NewScorer(m, []ood.Detector{ood.MSP{}, &ood.ODIN{Temperature: 1000, Magnitude: row.Epsilon}}, nf.workers, nf.batch)
				inR, err := rangeOf(in, *first, *count)
				if err != nil {
					return err
				}
				outR, err := rangeOf(out, *first, *count)
				if err != nil {
					return err
				}
				key := inKey{net, row.Epsilon}
				if inScores[key] == nil {
					bar := progress.New(stderr, net+" "+row.InSet, inR.Count, *quiet)
					s, err := scorer.Score(ctx, in, inR.First, inR.Count, nil, bar.Set)
					if err != nil {
						return err
					}
					bar.Finish()
					inScores[key] = s
				}
				bar := progress.New(stderr, net+" "+row.OutSet, outR.Count, *quiet)
				outS, err := scorer.Score(ctx, out, outR.First, outR.Count, nil, bar.Set)
				if err != nil {
					return err
				}
				bar.Finish()
				var res [2]metrics.Result
				for d := range 2 {
					if res[d], err = metrics.Compute(inScores[key][d], outS[d], metrics.Options{}); err != nil {
						return err
					}
				}
				b, o := res[0].Percent(), res[1].Percent()
				pb, po := row.Baseline.Percent(), row.ODIN.Percent()
				cell := func(paper, ours float64) string { return fmt.Sprintf(" %.1f / %.1f |", paper, ours) }
				line := prefix + cell(pb.FPR95, b.FPR95) + cell(po.FPR95, o.FPR95) + cell(pb.DetErr, b.DetErr) + cell(po.DetErr, o.DetErr) +
					cell(pb.AUROC, b.AUROC) + cell(po.AUROC, o.AUROC) + cell(pb.AUPRIn, b.AUPRIn) + cell(po.AUPRIn, o.AUPRIn) +
					cell(pb.AUPROut, b.AUPROut) + cell(po.AUPROut, o.AUPROut)
				fmt.Fprintf(stdout, "%s %d + %d | %s |\n", line, inR.Count, outR.Count, time.Since(start).Round(time.Second))
			}
		}
	}
	return nil
}

// rangeOf is the seed's protocol on one set: images first … to the end, or count of them.
func rangeOf(ds dataset.Dataset, first, count int) (experiment.Range, error) {
	if first >= ds.Len() {
		return experiment.Range{}, usageError("--first %d: %s has only %d images", first, ds.Name(), ds.Len())
	}
	n := ds.Len() - first
	if count > 0 {
		n = min(count, n)
	}
	return experiment.Range{Data: ds, First: first, Count: n}, nil
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n", " "), "|", "/")
}
