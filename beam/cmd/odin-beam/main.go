// Command odin-beam scores image collections with odin on Apache Beam: Prism on one machine
// (--runner prism, the default), or Dataflow, Flink or Spark with their runner flags. See
// docs/scale-out.md of the odin repository.
//
//	odin-beam --nn densenet10 --data ../shared/data --list images.txt --output out/ --shards 4
//	odin-beam --in_list in.txt --out_list ood.txt --output out/      # labelled: metrics too
//	odin-beam --nn resnet50.onnx --preprocess imagenet.json --list images.txt --output out/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/odin-ood/odin/beam/pipeline"
	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/internal/prepflag"
	"github.com/odin-ood/odin/ood"
)

// cmdFlags are odin-beam's own flags; Beam's runner flags live on the same flag set.
type cmdFlags struct {
	nn, arch, data, method, stats, threshold, resize string
	temperature, magnitude                           float64
	workers, batch, flush, shards                    int
	lists, patterns, inLists, outLists, output       string
	format                                           string
	maxBytes                                         int64
	reshuffle                                        bool
	// prep are odin score's preprocessing and ONNX flags (--preprocess, --mean, --std, --crop,
	// --interpolation, --scale, --features, --input-shape), with the same meaning and errors;
	// --resize is the filter for 32×32 networks here too.
	prep prepflag.Flags
}

func (f *cmdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.nn, "nn", "densenet10", "network: a known name (looked up under --data/models), a checkpoint or an ONNX model readable on the workers")
	fs.StringVar(&f.arch, "arch", "", "architecture of a checkpoint file (default: inferred)")
	fs.StringVar(&f.data, "data", os.Getenv("ODIN_DATA"), "data folder on the workers (default $ODIN_DATA)")
	fs.StringVar(&f.method, "method", "", "detectors, comma-separated (default msp,odin)")
	fs.StringVar(&f.stats, "stats", "", "statistics file of fitted detectors, readable on the workers (fitted with the same --features and preprocessing)")
	fs.Float64Var(&f.temperature, "temperature", 1000, "ODIN temperature T")
	fs.Float64Var(&f.magnitude, "magnitude", 0.0014, "ODIN perturbation magnitude ε")
	fs.StringVar(&f.threshold, "threshold", "", "threshold file of odin calibrate: T and ε from it, and a decision column")
	fs.StringVar(&f.resize, "resize", "", "filter for images that are not 32×32, for 32×32 networks (default: refuse them); other sizes: --preprocess FILE with \"resize\"")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "scoring goroutines per DoFn instance")
	fs.IntVar(&f.batch, "batch", 8, "images per micro-batch of each scoring goroutine")
	fs.IntVar(&f.flush, "flush", 64, "paths buffered by a DoFn before it scores them")
	fs.StringVar(&f.lists, "list", "", "comma-separated globs of list files (one image path or URI per line)")
	fs.StringVar(&f.patterns, "pattern", "", "comma-separated globs of image files (local, gs://, s3://)")
	fs.StringVar(&f.inLists, "in_list", "", "list files of in-distribution images (labelled run: metrics too)")
	fs.StringVar(&f.outLists, "out_list", "", "list files of OOD images (labelled run: metrics too)")
	fs.StringVar(&f.output, "output", "", "output folder: score shards, dead-letter.txt, metrics.jsonl")
	fs.IntVar(&f.shards, "shards", 1, "number of score files (shard i holds the paths p with ⌊FNV-1a-64(p)·n / 2⁶⁴⌋ = i, as odin score --shard)")
	fs.StringVar(&f.format, "format", "csv", "score file format: csv or jsonl")
	fs.Int64Var(&f.maxBytes, "max_bytes", collection.DefaultMaxBytes, "largest image accepted, in bytes")
	fs.BoolVar(&f.reshuffle, "reshuffle", true, "reshuffle the inputs before scoring, to spread them over workers")
	f.prep.Register(fs, "resize")
}

func main() {
	var f cmdFlags
	f.register(flag.CommandLine)
	flag.Parse()
	beam.Init()
	if err := run(context.Background(), &f); err != nil {
		fmt.Fprintf(os.Stderr, "odin-beam: %v\n", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// options turns the flags into the pipeline's options; the collection.Config in them is what
// every worker loads the network and the detectors from.
func (f *cmdFlags) options() (pipeline.Options, error) {
	format, err := collection.ParseFormat(f.format)
	if err != nil {
		return pipeline.Options{}, err
	}
	var rm dataset.ResizeMode
	if f.resize != "" {
		if rm.Filter, err = dataset.ParseFilter(f.resize); err != nil {
			return pipeline.Options{}, err
		}
		rm.Antialias = true
	}
	pre, err := f.prep.Preprocess()
	if err != nil {
		return pipeline.Options{}, err
	}
	shape, err := f.prep.InputShape()
	if err != nil {
		return pipeline.Options{}, err
	}
	return pipeline.Options{
		Config: collection.Config{NN: f.nn, Arch: f.arch, Data: f.data, Methods: f.method, StatsPath: f.stats,
			Temperature: f.temperature, Magnitude: f.magnitude, Threshold: f.threshold, Resize: rm, Workers: f.workers, Batch: f.batch,
			Preprocess: pre, Features: f.prep.Features(), InputShape: shape},
		Lists: split(f.lists), Patterns: split(f.patterns), InLists: split(f.inLists), OutLists: split(f.outLists),
		Output: f.output, Shards: f.shards, Format: format, Flush: f.flush, MaxBytes: f.maxBytes, NoReshuffle: !f.reshuffle,
	}, nil
}

// check loads the network, detectors and threshold here, so that wrong flags fail at once
// rather than on the workers; a network named by a URI may not be readable here.
func (f *cmdFlags) check(opt pipeline.Options) error {
	if _, _, err := opt.Config.Load(); err != nil && !strings.Contains(f.nn, "://") {
		return advise(err)
	}
	return nil
}

// advise adds the way out to statistics fitted on other features or with another preprocessing.
func advise(err error) error {
	if errors.Is(err, ood.ErrOtherFeatures) || errors.Is(err, ood.ErrOtherPreprocess) {
		return fmt.Errorf("%w: give --features and the preprocessing flags they were fitted with, or fit them with these (odin fit)", err)
	}
	return err
}

func run(ctx context.Context, f *cmdFlags) error {
	opt, err := f.options()
	if err != nil {
		return err
	}
	if err := f.check(opt); err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := pipeline.Build(s, opt); err != nil {
		return err
	}
	return beamx.Run(ctx, p)
}
