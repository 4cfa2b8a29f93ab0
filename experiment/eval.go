package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/scorefile"
)

// Range is the part of a data set that is scored: images First … First+Count−1.
type Range struct {
	Data         dataset.Dataset
	First, Count int
}

// Eval describes one evaluation: an in-distribution set and an OOD set scored by every detector of
// a Scorer, and the metrics of each detector.
type Eval struct {
	Scorer  *Scorer
	In, Out Range
	// ScoresDir, if not empty, keeps the scores as in.csv and out.csv (index plus one column per
	// detector) and run.json (Identity). A later Eval with the same identity resumes from them.
	ScoresDir string
	// Identity describes the run (network, parameters, sets); resuming from scores made with
	// another identity is refused.
	Identity map[string]string
	// InCache, if not empty and ScoresDir is empty, keeps the in-distribution scores alone in
	// InCache/in.csv, identified by InIdentity (network, parameters and in-distribution range but
	// not the OOD set), so that evaluations against several OOD sets score the in-distribution
	// images once.
	InCache    string
	InIdentity map[string]string
	// OutCache and OutIdentity do the same for the OOD scores (identified by the network,
	// parameters and OOD range), so that a repeated evaluation reads them back.
	OutCache    string
	OutIdentity map[string]string
	Metrics     metrics.Options
	// Progress, if set, is told how many images of which set ("in" or "out") are done.
	Progress func(set string, done, total int)
}

// Outcome holds the scores and metrics of an Eval.
type Outcome struct {
	Methods []string
	// In[d] and Out[d] are detector d's scores of the scored images, in index order.
	In, Out [][]float64
	Results []metrics.Result
	// Resumed counts the images whose scores were read back from ScoresDir.
	Resumed int
	Elapsed time.Duration
}

// Run scores both sets and computes the metrics.
func (ev *Eval) Run(ctx context.Context) (*Outcome, error) {
	start := time.Now()
	o := &Outcome{}
	for _, d := range ev.Scorer.Detectors {
		o.Methods = append(o.Methods, d.Name())
	}
	var inPath, outPath string
	switch {
	case ev.ScoresDir != "":
		if err := prepare(ev.ScoresDir, ev.Identity); err != nil {
			return nil, err
		}
		inPath, outPath = filepath.Join(ev.ScoresDir, "in.csv"), filepath.Join(ev.ScoresDir, "out.csv")
	default:
		if ev.InCache != "" {
			if err := prepare(ev.InCache, ev.InIdentity); err != nil {
				return nil, err
			}
			inPath = filepath.Join(ev.InCache, "in.csv")
		}
		if ev.OutCache != "" {
			if err := prepare(ev.OutCache, ev.OutIdentity); err != nil {
				return nil, err
			}
			outPath = filepath.Join(ev.OutCache, "out.csv")
		}
	}
	var err error
	var n int
	if o.In, n, err = ev.score(ctx, "in", ev.In, inPath); err != nil {
		return nil, err
	}
	o.Resumed += n
	if o.Out, n, err = ev.score(ctx, "out", ev.Out, outPath); err != nil {
		return nil, err
	}
	o.Resumed += n
	for d := range o.Methods {
		r, err := metrics.Compute(o.In[d], o.Out[d], ev.Metrics)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Methods[d], err)
		}
		o.Results = append(o.Results, r)
	}
	o.Elapsed = time.Since(start)
	return o, nil
}

// score scores one range, resuming from and appending to the score file at path if given.
func (ev *Eval) score(ctx context.Context, set string, r Range, path string) ([][]float64, int, error) {
	var progress func(int)
	if ev.Progress != nil {
		progress = func(done int) { ev.Progress(set, done, r.Count) }
	}
	if path == "" {
		s, err := ev.Scorer.Score(ctx, r.Data, r.First, r.Count, nil, progress)
		return s, 0, err
	}
	// Append validates the header and drops a line cut short by a crash; the rows before it are
	// then read back and must be the first images of the range, in order.
	w, err := scorefile.Append(path, ev.columns())
	if err != nil {
		return nil, 0, err
	}
	prev, err := readPrefix(path, r.First, r.Count, len(ev.Scorer.Detectors))
	if err != nil {
		w.Close()
		return nil, 0, err
	}
	k := len(prev[0])
	var base func(int)
	if progress != nil {
		base = func(done int) { progress(k + done) }
	}
	rest, err := ev.Scorer.Score(ctx, r.Data, r.First+k, r.Count-k, w, base)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, err
	}
	for d := range prev {
		prev[d] = append(prev[d], rest[d]...)
	}
	return prev, k, nil
}

func (ev *Eval) columns() []string {
	var c []string
	for _, d := range ev.Scorer.Detectors {
		c = append(c, Column(d.Name()))
	}
	return c
}

// Column is the score-file column of a detector: the seed's "baseline" for MSP, else its name.
func Column(method string) string {
	if method == "msp" {
		return "baseline"
	}
	return method
}

// readPrefix reads the rows already in a score file whose header matched; they must be images
// first, first+1, … in order (as Run writes them) and no more than count.
func readPrefix(path string, first, count, columns int) ([][]float64, error) {
	out := make([][]float64, columns)
	f, err := scorefile.Read(path)
	if err != nil {
		return nil, err
	}
	if f.Len() > count {
		return nil, otherRun("scores %s: holds %d rows, this run scores %d images", path, f.Len(), count)
	}
	for i, idx := range f.Index {
		if idx != first+i {
			return nil, otherRun("scores %s: row %d is image %d, expected %d", path, i+1, idx, first+i)
		}
	}
	for d := range columns {
		out[d] = slices.Clone(f.Values[d])
	}
	return out, nil
}

// prepare makes a scores folder and checks or records its identity.
func prepare(dir string, id map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scores folder: %w", err)
	}
	return checkIdentity(filepath.Join(dir, "run.json"), id)
}

// checkIdentity writes the run's identity, or checks it against the one already there.
func checkIdentity(path string, id map[string]string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, _ := json.MarshalIndent(id, "", "  ")
		// Created whole or not at all (scorefile.CreateExclusive): of two runs starting together
		// one writes it, the other reads it complete and is checked against it.
		err = scorefile.CreateExclusive(path, append(b, '\n'))
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	var old map[string]string
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("scores %s: %v", path, err)
	}
	if maps.Equal(old, id) {
		return nil
	}
	keys := slices.Sorted(maps.Keys(id))
	for _, k := range keys {
		if old[k] != id[k] {
			return otherRun("scores in %s were made with %s=%q, this run has %q", filepath.Dir(path), k, old[k], id[k])
		}
	}
	return otherRun("scores in %s were made by a different run", filepath.Dir(path))
}
