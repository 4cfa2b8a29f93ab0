package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/metrics"
)

func init() {
	register.DoFn1x2[Scored, int, Scored](&keyFn{})
	register.DoFn2x0[[]byte, func(int, int)](&seedFn{})
	register.DoFn6x1[context.Context, int, func(*int) bool, func(*Scored) bool, int, func(string), error](&writeFn{})
	register.Iter1[int]()
	register.Iter1[Scored]()
	register.Emitter2[int, int]()
	register.Emitter1[string]()
	register.Emitter2[string, Labelled]()
	register.DoFn2x0[Scored, func(string, Labelled)](&observeFn{})
	register.Combiner3[collection.Histogram, Labelled, string](&histFn{})
	register.Function2x1[string, string, string](metricsLine)
	beam.RegisterType(reflect.TypeOf((*Labelled)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*collection.Histogram)(nil)).Elem())
}

// keyFn keys a row by its shard: FNV-1a 64 of the path mod Shards, as odin score --shard.
type keyFn struct{ Shards int }

func (f *keyFn) ProcessElement(r Scored) (int, Scored) { return collection.Of(r.Path, f.Shards), r }

// seedFn emits every shard number once, so that a shard without images still gets its file.
type seedFn struct{ Shards int }

func (f *seedFn) ProcessElement(_ []byte, emit func(int, int)) {
	for i := range f.Shards {
		emit(i, 0)
	}
}

// writeShards groups rows by shard and writes each shard's score file.
func writeShards(s beam.Scope, opt Options, rows, total beam.PCollection) beam.PCollection {
	keyed := beam.ParDo(s, &keyFn{Shards: opt.Shards}, rows)
	seeds := beam.ParDo(s, &seedFn{Shards: opt.Shards}, beam.Impulse(s))
	grouped := beam.CoGroupByKey(s, seeds, keyed)
	return beam.ParDo(s, &writeFn{Config: opt.Config, Output: opt.Output, Shards: opt.Shards, Format: opt.Format}, grouped,
		beam.SideInput{Input: total})
}

// writeFn writes one shard's score file, in odin score's format.
type writeFn struct {
	Config collection.Config
	Output string
	Shards int
	Format collection.Format

	meta collection.Meta
}

func (f *writeFn) Setup(ctx context.Context) error {
	// The metadata is the scorer's: same network digest, kernel and parameters.
	_, meta, err := f.Config.Load()
	f.meta = meta
	return err
}

func (f *writeFn) ProcessElement(ctx context.Context, shard int, _ func(*int) bool, rows func(*Scored) bool, total int, emit func(string)) error {
	file := &collection.File{Meta: f.meta, Format: f.Format}
	var r Scored
	for rows(&r) {
		file.Rows = append(file.Rows, collection.Row{Path: r.Path, Scores: r.Scores, Class: r.Class, Decision: r.Decision, Err: r.Err})
	}
	slices.SortFunc(file.Rows, func(a, b collection.Row) int { return cmp.Compare(a.Path, b.Path) })
	s := collection.Shard{I: shard, N: f.Shards}
	file.Meta.Shard, file.Meta.Count, file.Meta.Total = s.String(), len(file.Rows), total
	if s.Whole() {
		file.Meta.Count = total
	}
	name := join(f.Output, fmt.Sprintf("scores-%05d-of-%05d.%v", shard, f.Shards, f.Format))
	if err := localDir(f.Output); err != nil {
		return err
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return err
	}
	if err := collection.Encode(w, file); err != nil {
		w.Close()
		return fmt.Errorf("%s: %v", name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	emit(name)
	return nil
}

// Labelled is one score of one image and whether the image is in-distribution.
type Labelled struct {
	Score float64
	In    bool
}

// observeFn emits, per detector, the score of each Labelled and readable image.
type observeFn struct{ Methods []string }

func (f *observeFn) ProcessElement(r Scored, emit func(string, Labelled)) {
	if r.Err != "" || r.Label == "" {
		return
	}
	for i, m := range f.Methods {
		emit(m, Labelled{Score: r.Scores[i], In: r.Label == "in"})
	}
}

// histFn is the exact combine: a collection.Histogram of distinct score values with their
// in-distribution and OOD counts.
type histFn struct{}

func (histFn) CreateAccumulator() collection.Histogram { return collection.Histogram{} }

func (histFn) AddInput(h collection.Histogram, x Labelled) collection.Histogram {
	h.Add(x.Score, x.In)
	return h
}

func (histFn) MergeAccumulators(a, b collection.Histogram) collection.Histogram {
	a.Merge(&b)
	return a
}

func (histFn) ExtractOutput(h collection.Histogram) string {
	res, err := h.Metrics(metrics.Options{})
	nIn, nOut := h.Counts()
	out := map[string]any{"in": nIn, "out": nOut}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["metrics"] = res.Percent()
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// metricsLine makes the JSON line of one detector's metrics.
func metricsLine(method, body string) string {
	return fmt.Sprintf(`{"method":%q,%s`, method, body[1:])
}

func exactMetrics(s beam.Scope, cfgMethods []string, rows beam.PCollection) beam.PCollection {
	obs := beam.ParDo(s, &observeFn{Methods: cfgMethods}, rows)
	per := beam.CombinePerKey(s, &histFn{}, obs)
	return beam.ParDo(s, metricsLine, per)
}
