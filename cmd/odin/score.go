package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/internal/progress"
	"github.com/odin-ood/odin/ood"
)

func init() {
	register("score", "score any images (folders, lists of paths or URLs, globs) into a score file; --shard i/n", cmdScore)
}

// scoreFlags are the flags of odin score.
type scoreFlags struct {
	netFlags
	method, stats, cache, threshold string
	out, format, shard, resize      string
	magnitude, temperature          float64
	maxBytes                        int64
	timeout                         time.Duration
	quiet                           bool
	given                           map[string]bool
}

func (f *scoreFlags) register(fs *flag.FlagSet) {
	f.netFlags.register(fs, "densenet10", 8)
	f.prep.registerExcept(fs, "resize") // --resize is the 32×32 filter here; resize via --preprocess
	fs.StringVar(&f.method, "method", "", "detectors, comma-separated ("+strings.Join(ood.Names(), ", ")+"); default msp,odin")
	fs.StringVar(&f.stats, "stats", "", "statistics file of the fitted detectors (made by odin fit; default in the cache)")
	fs.StringVar(&f.cache, "cache", "", "cache folder (default $ODIN_CACHE, else the user cache folder)")
	fs.Float64Var(&f.magnitude, "magnitude", 0.0014, "ODIN perturbation magnitude ε")
	fs.Float64Var(&f.temperature, "temperature", 1000, "ODIN temperature T")
	fs.StringVar(&f.threshold, "threshold", "", "threshold file made by odin calibrate: take T and ε from it and add a decision column (in: ODIN score ≥ δ)")
	fs.StringVar(&f.out, "out", "", "score file to write; a rerun of the same command resumes it (required)")
	fs.StringVar(&f.format, "format", "csv", "score file format: csv or jsonl")
	fs.StringVar(&f.shard, "shard", "", "score only shard `i/n` of the inputs: the images whose path p has ⌊FNV-1a-64(p)·n / 2⁶⁴⌋ = i")
	fs.StringVar(&f.resize, "resize", "", "filter that brings images that are not 32×32 to 32×32 (nearest, box, bilinear, bicubic, lanczos; antialiased); default: such images are refused")
	fs.Int64Var(&f.maxBytes, "max-bytes", collection.DefaultMaxBytes, "largest image file or download accepted, in bytes")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "time limit of one download")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
}

// cmdScore implements
//
//	odin score --out FILE [--shard i/n] [--format csv|jsonl] [--method …] [--threshold FILE] INPUT…
func cmdScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score")
	var f scoreFlags
	f.register(fs)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	job, err := f.job(pos)
	if err != nil {
		return err
	}
	printNotes(stderr, &experiment.Network{Notes: job.Scorer.Notes})
	var bar *progress.Bar
	job.Progress = func(done, total int) {
		if bar == nil {
			bar = progress.New(stderr, "score", total, f.quiet)
		}
		bar.Set(done)
	}
	sum, err := job.Run(ctx)
	bar.Finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "rows scored so far kept in %s: run the same command again to resume\n", f.out)
		}
		return err
	}
	rate := float64(sum.Scored) / max(sum.Elapsed.Seconds(), 1e-9)
	which := fmt.Sprintf("%d images", sum.Count)
	if !job.Shard.Whole() {
		which = fmt.Sprintf("%d of %d images (shard %s)", sum.Count, len(job.Inputs), job.Shard)
	}
	_, err = fmt.Fprintf(stdout, "%s: %s, %d already there, %d scored in %.1f s (%.1f img/s), %d unreadable\n",
		f.out, which, sum.Resumed, sum.Scored, sum.Elapsed.Seconds(), rate, sum.Failed)
	if sum.Failed > 0 {
		fmt.Fprintf(stderr, "odin score: %d images could not be read or decoded: their rows give the reason in the error column\n", sum.Failed)
	}
	return err
}

// job checks the flags, lists the inputs, loads the network and assembles the job.
func (f *scoreFlags) job(inputs []string) (*collection.Job, error) {
	if err := f.netFlags.check(); err != nil {
		return nil, err
	}
	switch {
	case f.out == "":
		return nil, usageError("--out FILE is required: the score file, which a rerun resumes")
	case len(inputs) == 0:
		return nil, usageError("no inputs: give folders, globs, image files or list files of paths and URLs")
	case f.magnitude < 0:
		return nil, usageError("--magnitude must not be negative, got %g", f.magnitude)
	case !(f.temperature > 0):
		return nil, usageError("--temperature must be positive, got %g", f.temperature)
	case f.maxBytes < 1:
		return nil, usageError("--max-bytes must be positive, got %d", f.maxBytes)
	}
	format, err := collection.ParseFormat(f.format)
	if err != nil {
		return nil, usageError("--format: %v", err)
	}
	shard, err := collection.ParseShard(f.shard)
	if err != nil {
		return nil, usageError("--shard: %v", err)
	}
	var resize dataset.ResizeMode
	if f.resize != "" {
		if resize.Filter, err = dataset.ParseFilter(f.resize); err != nil {
			return nil, usageError("--resize: %v", err)
		}
		resize.Antialias = true
	}
	list, err := collection.List(inputs)
	if err != nil {
		return nil, err
	}
	statsPath := f.stats
	if cache, err := datadir.Cache(f.cache); statsPath == "" && err == nil {
		statsPath = experiment.DefaultStatsPath(cache, f.nn)
	}
	if f.threshold != "" && (f.given["temperature"] || f.given["magnitude"]) {
		return nil, usageError("--threshold takes T and ε from its file; leave out --temperature and --magnitude")
	}
	var lo experiment.LoadOptions
	if err := f.prep.options(&lo); err != nil {
		return nil, err
	}
	cfg := collection.Config{NN: f.nn, Arch: f.arch, Data: datadir.Data(f.data), Methods: f.method, StatsPath: statsPath,
		Temperature: f.temperature, Magnitude: f.magnitude, Threshold: f.threshold, Resize: resize, Workers: f.workers, Batch: f.batch,
		Preprocess: lo.Preprocess, Features: lo.Features, InputShape: lo.InputShape}
	s, meta, err := cfg.Load()
	var missing *experiment.MissingStatsError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%v: make it with `odin fit --nn %s --method %s`", err, f.nn, strings.Join(missing.Methods, ","))
	case errors.Is(err, collection.ErrThresholdMethods):
		return nil, usageError("--threshold decides on odin scores: --method must include odin")
	case errors.Is(err, decision.ErrOtherNetwork):
		return nil, fmt.Errorf("--threshold %s: %v", f.threshold, err)
	case errors.Is(err, ood.ErrOtherFeatures), errors.Is(err, ood.ErrOtherPreprocess):
		return nil, adviseStats(err, f.nn, f.method, f.stats)
	case err != nil:
		return nil, err
	}
	s.Reader = &collection.Fetcher{Timeout: f.timeout, MaxBytes: f.maxBytes}
	return &collection.Job{Scorer: s, Inputs: list, Shard: shard, Out: f.out, Format: format, Meta: meta}, nil
}
