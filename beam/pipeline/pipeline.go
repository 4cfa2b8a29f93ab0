package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/odin-ood/odin/collection"
)

// Options configures Build.
type Options struct {
	// Config is the scoring run: network, detectors, parameters. Its paths (checkpoint, data
	// folder, statistics, threshold) must be readable where the workers run.
	Config collection.Config
	// Lists are globs of list files of unlabelled inputs; Patterns are globs of image files.
	Lists, Patterns []string
	// InLists and OutLists are list files of labelled inputs: in-distribution and OOD. With
	// both, the pipeline computes the metrics.
	InLists, OutLists []string
	// Output is the folder (local, gs://, s3://) the score shards, dead letters and metrics go to.
	Output string
	// Shards is the number of score files (default 1).
	Shards int
	Format collection.Format
	// Flush is the number of paths buffered before they are scored (default 64).
	Flush int
	// MaxBytes bounds one image (default collection.DefaultMaxBytes).
	MaxBytes int64
	// NoReshuffle leaves out the reshuffle before scoring (for one-machine runs).
	NoReshuffle bool
}

// Input is an image to score and its label: "in", "out", or "" when unlabelled.
type Input struct {
	Path, Label string
}

// Scored is the row of one image, with its label.
type Scored struct {
	Path     string
	Scores   []float64
	Class    int
	Decision string
	Err      string
	Label    string
}

// DeadLetter is an image that could not be scored, and why.
type DeadLetter struct {
	Path, Err string
}

// Outputs are the PCollections Build makes.
type Outputs struct {
	Rows       beam.PCollection // Scored
	DeadLetter beam.PCollection // DeadLetter
	Files      beam.PCollection // string: the score shard files written
	Metrics    beam.PCollection // string: JSON lines of metrics, when inputs are labelled
}

func init() {
	register.DoFn4x1[context.Context, Input, func(Scored), func(DeadLetter), error](&scoreFn{})
	register.Emitter1[Scored]()
	register.Emitter1[DeadLetter]()
	register.Emitter1[Input]()
	register.DoFn2x0[string, func(Input)](&listFn{})
	register.Function1x1[fileio.FileMetadata, Input](matched)
	register.Function1x1[DeadLetter, string](deadLine)
	register.Function1x1[Input, int](one)
	register.Function2x1[int, int, int](add)
	beam.RegisterType(reflect.TypeOf((*Input)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Scored)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*DeadLetter)(nil)).Elem())
}

// Build adds the pipeline to s.
func Build(s beam.Scope, opt Options) (Outputs, error) {
	if opt.Output == "" {
		return Outputs{}, errors.New("pipeline: no output folder")
	}
	if len(opt.InLists) > 0 != (len(opt.OutLists) > 0) {
		return Outputs{}, errors.New("pipeline: labelled inputs need both in-distribution and OOD lists")
	}
	if len(opt.Lists)+len(opt.Patterns)+len(opt.InLists) == 0 {
		return Outputs{}, errors.New("pipeline: no inputs")
	}
	opt.Shards = max(opt.Shards, 1)
	if opt.Flush < 1 {
		opt.Flush = 64
	}
	// textio and fileio panic on a file system the program has not registered: check first.
	for _, g := range slices.Concat([]string{opt.Output}, opt.Lists, opt.Patterns, opt.InLists, opt.OutLists) {
		fs, err := filesystem.New(context.Background(), g)
		if err != nil {
			return Outputs{}, fmt.Errorf("pipeline: %s: %v", g, err)
		}
		fs.Close()
	}
	if err := localDir(opt.Output); err != nil {
		return Outputs{}, fmt.Errorf("pipeline: %v", err)
	}
	var inputs []beam.PCollection
	for _, g := range opt.Lists {
		inputs = append(inputs, beam.ParDo(s.Scope("list"), &listFn{}, textio.Read(s, g)))
	}
	for _, g := range opt.Patterns {
		inputs = append(inputs, beam.ParDo(s.Scope("match"), matched, fileio.MatchFiles(s, g)))
	}
	for _, g := range opt.InLists {
		inputs = append(inputs, beam.ParDo(s.Scope("in"), &listFn{Label: "in"}, textio.Read(s, g)))
	}
	for _, g := range opt.OutLists {
		inputs = append(inputs, beam.ParDo(s.Scope("out"), &listFn{Label: "out"}, textio.Read(s, g)))
	}
	all := beam.Flatten(s, inputs...)
	total := beam.Combine(s, add, beam.ParDo(s, one, all))
	if !opt.NoReshuffle {
		// Spreads the inputs over workers before the expensive step; without it a runner may
		// fuse scoring with the read of one list file on one worker.
		all = beam.Reshuffle(s, all)
	}
	rows, dead := beam.ParDo2(s.Scope("score"), &scoreFn{Config: opt.Config, Flush: opt.Flush, MaxBytes: opt.MaxBytes}, all)
	textio.Write(s.Scope("dead-letter"), join(opt.Output, "dead-letter.txt"), beam.ParDo(s, deadLine, dead))
	files := writeShards(s.Scope("shards"), opt, rows, total)
	out := Outputs{Rows: rows, DeadLetter: dead, Files: files}
	if len(opt.InLists) > 0 {
		cols, err := collection.Columns(opt.Config.Methods)
		if err != nil {
			return Outputs{}, err
		}
		out.Metrics = exactMetrics(s.Scope("metrics"), cols, rows)
		textio.Write(s, join(opt.Output, "metrics.jsonl"), out.Metrics)
	}
	return out, nil
}

// join joins an output folder and a file name, keeping a scheme's "//".
func join(dir, name string) string {
	if strings.Contains(dir, "://") {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// listFn turns the lines of a list file into inputs.
type listFn struct{ Label string }

func (f *listFn) ProcessElement(line string, emit func(Input)) {
	line = strings.TrimSpace(line)
	if line != "" && !strings.HasPrefix(line, "#") {
		emit(Input{Path: line, Label: f.Label})
	}
}

func matched(m fileio.FileMetadata) Input { return Input{Path: m.Path} }

func deadLine(d DeadLetter) string { return d.Path + "\t" + d.Err }

func one(Input) int    { return 1 }
func add(a, b int) int { return a + b }

// scoreFn scores inputs in micro-batches with a network loaded once per instance.
type scoreFn struct {
	Config   collection.Config
	Flush    int
	MaxBytes int64

	scorer *collection.Scorer
	buf    []Input
}

func (f *scoreFn) Setup(ctx context.Context) error {
	s, _, err := f.Config.Load()
	if err != nil {
		return err
	}
	s.Reader = &reader{fetch: &collection.Fetcher{MaxBytes: f.MaxBytes}, max: f.MaxBytes}
	f.scorer = s
	return nil
}

func (f *scoreFn) ProcessElement(ctx context.Context, in Input, emit func(Scored), dead func(DeadLetter)) error {
	f.buf = append(f.buf, in)
	if len(f.buf) < f.Flush {
		return nil
	}
	return f.flush(ctx, emit, dead)
}

func (f *scoreFn) FinishBundle(ctx context.Context, emit func(Scored), dead func(DeadLetter)) error {
	return f.flush(ctx, emit, dead)
}

func (f *scoreFn) flush(ctx context.Context, emit func(Scored), dead func(DeadLetter)) error {
	if len(f.buf) == 0 {
		return nil
	}
	paths := make([]string, len(f.buf))
	for i, in := range f.buf {
		paths[i] = in.Path
	}
	next := 0
	err := f.scorer.Score(ctx, paths, func(rows []collection.Row) error {
		for _, r := range rows {
			emit(Scored{Path: r.Path, Scores: r.Scores, Class: r.Class, Decision: r.Decision, Err: r.Err, Label: f.buf[next].Label})
			if r.Err != "" {
				dead(DeadLetter{Path: r.Path, Err: r.Err})
			}
			next++
		}
		return nil
	})
	f.buf = f.buf[:0]
	return err
}

// reader reads inputs through Beam's file systems, and http(s) URLs with a Fetcher.
type reader struct {
	fetch *collection.Fetcher
	max   int64
}

func (r *reader) Read(ctx context.Context, p string) ([]byte, error) {
	if collection.IsURL(p) {
		return r.fetch.Read(ctx, p)
	}
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, unwrapPath(err))
	}
	defer rc.Close()
	limit := r.max
	if limit <= 0 {
		limit = collection.DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than the limit of %d bytes", p, limit)
	}
	return data, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// localDir makes a local output folder; object stores need none.
func localDir(dir string) error {
	if strings.Contains(dir, "://") {
		return nil
	}
	return os.MkdirAll(dir, 0o755)
}
