// Command odin-beam scores image collections with odin on Apache Beam: Prism on one machine
// (--runner prism, the default), or Dataflow, Flink or Spark with their runner flags. See
// docs/scale-out.md of the odin repository.
//
//	odin-beam --nn densenet10 --data ../shared/data --list images.txt --output out/ --shards 4
//	odin-beam --in_list in.txt --out_list ood.txt --output out/      # labelled: metrics too
package main

import (
	"context"
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
)

var (
	nn          = flag.String("nn", "densenet10", "network: a known name (looked up under --data/models) or a checkpoint file readable on the workers")
	arch        = flag.String("arch", "", "architecture of a checkpoint file (default: inferred)")
	data        = flag.String("data", os.Getenv("ODIN_DATA"), "data folder on the workers (default $ODIN_DATA)")
	method      = flag.String("method", "", "detectors, comma-separated (default msp,odin)")
	stats       = flag.String("stats", "", "statistics file of fitted detectors, readable on the workers")
	temperature = flag.Float64("temperature", 1000, "ODIN temperature T")
	magnitude   = flag.Float64("magnitude", 0.0014, "ODIN perturbation magnitude ε")
	threshold   = flag.String("threshold", "", "threshold file of odin calibrate: T and ε from it, and a decision column")
	resize      = flag.String("resize", "", "filter for images that are not 32×32 (default: refuse them)")
	workers     = flag.Int("workers", runtime.GOMAXPROCS(0), "scoring goroutines per DoFn instance")
	batch       = flag.Int("batch", 8, "images per micro-batch of each scoring goroutine")
	flush       = flag.Int("flush", 64, "paths buffered by a DoFn before it scores them")
	lists       = flag.String("list", "", "comma-separated globs of list files (one image path or URI per line)")
	patterns    = flag.String("pattern", "", "comma-separated globs of image files (local, gs://, s3://)")
	inLists     = flag.String("in_list", "", "list files of in-distribution images (labelled run: metrics too)")
	outLists    = flag.String("out_list", "", "list files of OOD images (labelled run: metrics too)")
	output      = flag.String("output", "", "output folder: score shards, dead-letter.txt, metrics.jsonl")
	shards      = flag.Int("shards", 1, "number of score files (shard i holds the paths p with ⌊FNV-1a-64(p)·n / 2⁶⁴⌋ = i, as odin score --shard)")
	format      = flag.String("format", "csv", "score file format: csv or jsonl")
	maxBytes    = flag.Int64("max_bytes", collection.DefaultMaxBytes, "largest image accepted, in bytes")
	reshuffle   = flag.Bool("reshuffle", true, "reshuffle the inputs before scoring, to spread them over workers")
)

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background()); err != nil {
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

func run(ctx context.Context) error {
	f, err := collection.ParseFormat(*format)
	if err != nil {
		return err
	}
	var rm dataset.ResizeMode
	if *resize != "" {
		if rm.Filter, err = dataset.ParseFilter(*resize); err != nil {
			return err
		}
		rm.Antialias = true
	}
	opt := pipeline.Options{
		Config: collection.Config{NN: *nn, Arch: *arch, Data: *data, Methods: *method, StatsPath: *stats,
			Temperature: *temperature, Magnitude: *magnitude, Threshold: *threshold, Resize: rm, Workers: *workers, Batch: *batch},
		Lists: split(*lists), Patterns: split(*patterns), InLists: split(*inLists), OutLists: split(*outLists),
		Output: *output, Shards: *shards, Format: f, Flush: *flush, MaxBytes: *maxBytes, NoReshuffle: !*reshuffle,
	}
	// Fail here, not on the workers, when the network or parameters are wrong.
	if _, _, err := opt.Config.Load(); err != nil && !strings.Contains(*nn, "://") {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := pipeline.Build(s, opt); err != nil {
		return err
	}
	return beamx.Run(ctx, p)
}
