package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
)

// Tuner searches ODIN's temperature and magnitude on held-out images. It keeps the grid scores of
// every range it has scored, so the in-distribution images are scored once however many
// validation sets are tuned against them.
//
// Two protocols use it. Per set (how the seed's ε table was made): Tune against images 0–999 of
// each OOD set and evaluate each set on its images 1000 onwards with its own BestCell. One
// validation set (the paper's, with iSUN): Tune against one set and evaluate every other set
// with that one BestCell. A Tuner is not safe for concurrent use. Set Metrics and Progress before the first call.
type Tuner struct {
	Model     *models.Model
	Grid      Grid
	Criterion Criterion
	// Metrics selects how cells are evaluated; the zero value is the exact metrics, as Eval's.
	Metrics metrics.Options
	// Progress, if set, is told the passes done for the set being scored ("in" or "out").
	Progress func(set string, done, total int)
	// CacheDir, if not empty, keeps the grid scores of each range in a folder below it named
	// after the range's identity: Identity plus the images (ImagesOf: the set's name and content
	// digest, the range) and the grid. Later searches (another validation set, a rerun, a run
	// interrupted midway) read them back. Identity must then name everything else the scores
	// depend on; UseCache sets both from a Network.
	CacheDir string
	Identity map[string]string
	// Halving, if not nil, makes Tune a successive-halving search (see Halving) instead of
	// scoring every cell on every image. Its scores are not kept in CacheDir.
	Halving *Halving
	seed    uint64
	scorer  *GridScorer
	cache   map[rangeKey]*GridScores
}

type rangeKey struct {
	name         string
	first, count int
}

// UseCache keeps grid scores under dir (CacheDir), identified by the network's checkpoint, the
// kernel in use and the seed of generated sets and built crops.
func (t *Tuner) UseCache(dir string, net *Network, seed uint64) {
	t.CacheDir, t.seed = dir, seed
	t.Identity = map[string]string{"network": net.Model.Name, "checkpoint": net.Checkpoint, "kernel": CurrentKernel()}
	if p := net.PreprocessJSON(); p != "" {
		t.Identity["preprocess"] = p
	}
	if a := net.Model.Graph.Arithmetic(); a != "" {
		t.Identity["arithmetic"] = a
	}
}

// NewTuner makes a tuner with the given workers and micro-batch size.
func NewTuner(m *models.Model, g Grid, c Criterion, workers, batch int) (*Tuner, error) {
	if _, err := ParseCriterion(string(c)); err != nil {
		return nil, err
	}
	if c == MaxInScore && len(g.Temperatures) != 1 {
		return nil, fmt.Errorf("a search without OOD data takes one temperature, got %d", len(g.Temperatures))
	}
	s, err := NewGridScorer(m, g, workers, batch)
	if err != nil {
		return nil, err
	}
	return &Tuner{Model: m, Grid: g, Criterion: c, scorer: s, cache: map[rangeKey]*GridScores{}}, nil
}

// Scores returns the grid scores of a range, scoring it unless an earlier call did. set names it
// for Progress.
func (t *Tuner) Scores(ctx context.Context, set string, r Range) (*GridScores, error) {
	key := rangeKey{r.Data.Name(), r.First, r.Count}
	if s, ok := t.cache[key]; ok {
		return s, nil
	}
	var progress func(done, total int)
	if t.Progress != nil {
		progress = func(done, total int) { t.Progress(set, done, total) }
	}
	path := ""
	if t.CacheDir != "" {
		id := maps.Clone(t.Identity)
		if id == nil {
			id = map[string]string{}
		}
		maps.Copy(id, ImagesOf(r, r.Data.Name(), "", t.seed).Map(""))
		id["temperatures"], id["magnitudes"] = joinFloats(t.Grid.Temperatures), joinFloats(t.Grid.Magnitudes)
		dir := filepath.Join(t.CacheDir, IdentityDir(id))
		if err := prepare(dir, id); err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "grid.csv")
	}
	s, err := t.scorer.ScoreFile(ctx, r.Data, r.First, r.Count, path, progress)
	if err != nil {
		return nil, err
	}
	t.cache[key] = s
	return s, nil
}

// Tune searches the grid with in as held-out in-distribution images and val as validation OOD
// images. The two must be different sets (by name). With the paper's protocol, in and val are
// images 0–999 and the chosen parameters are evaluated on images 1000 onwards.
func (t *Tuner) Tune(ctx context.Context, in, val Range) (*Tuning, error) {
	if t.Criterion == MaxInScore {
		return nil, errors.New("criterion in_score needs no validation set: use TuneInOnly")
	}
	if in.Data.Name() == val.Data.Name() {
		return nil, fmt.Errorf("validation set %s is the in-distribution set", val.Data.Name())
	}
	if t.Halving != nil {
		return t.tuneHalving(ctx, in, val)
	}
	_, inKept := t.cache[rangeKey{in.Data.Name(), in.First, in.Count}]
	si, err := t.Scores(ctx, "in", in)
	if err != nil {
		return nil, err
	}
	so, err := t.Scores(ctx, "out", val)
	if err != nil {
		return nil, err
	}
	res, err := Search(si, so, t.Criterion, t.Metrics)
	if err != nil {
		return nil, err
	}
	res.Forward, res.Backward = so.Forward, so.Backward
	if !inKept {
		res.Forward, res.Backward = res.Forward+si.Forward, res.Backward+si.Backward
	}
	return res, nil
}

// TuneInOnly chooses ε from in-distribution images alone (MaxInScore); the grid has one
// temperature.
func (t *Tuner) TuneInOnly(ctx context.Context, in Range) (*Tuning, error) {
	if t.Criterion != MaxInScore {
		return nil, fmt.Errorf("criterion %s needs OOD data: use Tune", t.Criterion)
	}
	si, err := t.Scores(ctx, "in", in)
	if err != nil {
		return nil, err
	}
	return SearchInOnly(si)
}
