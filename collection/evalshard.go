package collection

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/durable"
	"github.com/odin-ood/odin/scorefile"
)

// IndexShard is the part of images First … First+Count−1 of a data set that shard S holds in an
// evaluation: the images whose index k has k mod N = I, in order. It is a dataset.Dataset whose
// image j is image Index(j) of the underlying set, so an evaluation runs on it unchanged; its
// score files number the images 0, 1, … and MergeEval maps them back.
type IndexShard struct {
	Data         dataset.Dataset
	First, Count int
	S            Shard
}

// NewIndexShard returns the shard s of images first … first+count−1 of ds.
func NewIndexShard(ds dataset.Dataset, first, count int, s Shard) *IndexShard {
	return &IndexShard{Data: ds, First: first, Count: count, S: s}
}

func (v *IndexShard) start() int {
	n := max(v.S.N, 1)
	return v.First + ((v.S.I-v.First)%n+n)%n
}

// Index returns the index in the underlying set of image j of the shard.
func (v *IndexShard) Index(j int) int { return v.start() + j*max(v.S.N, 1) }

// Len is the number of images of the range in the shard.
func (v *IndexShard) Len() int {
	end := v.First + v.Count
	if v.start() >= end {
		return 0
	}
	return (end-v.start()-1)/max(v.S.N, 1) + 1
}

// Name names the underlying set and the shard.
func (v *IndexShard) Name() string {
	return fmt.Sprintf("%s [shard %s of images %d-%d]", v.Data.Name(), v.S, v.First, v.First+v.Count-1)
}

// Classes are the underlying set's.
func (v *IndexShard) Classes() []string { return v.Data.Classes() }

// Pixels is the number of values of one image of the underlying set (dataset.PixelsOf), so that
// a shard of a set of large images is checked and read at their size.
func (v *IndexShard) Pixels() int { return dataset.PixelsOf(v.Data) }

// Image is image Index(j) of the underlying set.
func (v *IndexShard) Image(j int, dst []float32) (int, error) {
	if j < 0 || j >= v.Len() {
		return 0, fmt.Errorf("%s: image %d out of range [0, %d)", v.Name(), j, v.Len())
	}
	return v.Data.Image(v.Index(j), dst)
}

// ContentDigest is the underlying set's content digest (if it has one) with the shard, so that
// cached scores of a shard are never taken for those of the whole range.
func (v *IndexShard) ContentDigest() string {
	d := ""
	if c, ok := v.Data.(interface{ ContentDigest() string }); ok {
		d = c.ContentDigest()
	}
	return fmt.Sprintf("%s shard %s of %d+%d", d, v.S, v.First, v.Count)
}

// Identity keys that odin eval --shard adds to a score folder's run.json.
const (
	KeyShard      = "shard"
	KeyShardFirst = "shard_first"
	KeyShardCount = "shard_count"
)

// MergeEval joins the score folders (run.json, in.csv, out.csv) of the shards of one sharded
// evaluation into dir, with the images' own indices, so that odin metrics dir/in.csv
// dir/out.csv gives the unsharded evaluation's metrics. It refuses folders of different runs and
// a missing, repeated or incomplete shard, each with one line.
func MergeEval(dirs []string, dir string) error {
	ids := make([]map[string]string, len(dirs))
	files := make([]*File, len(dirs)) // only for the shard bookkeeping of checkShards
	for i, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "run.json"))
		if err != nil {
			return fmt.Errorf("%s: %v (not a score folder of odin eval --shard)", d, durable.UnwrapPath(err))
		}
		if err := json.Unmarshal(b, &ids[i]); err != nil {
			return fmt.Errorf("%s/run.json: %v", d, err)
		}
		if ids[i][KeyShard] == "" {
			return fmt.Errorf("%s holds scores of an unsharded evaluation", d)
		}
		files[i] = &File{Meta: Meta{Shard: ids[i][KeyShard]}}
		if i > 0 {
			if k := firstDiff(ids[0], ids[i]); k != "" {
				return fmt.Errorf("%s and %s are shards of different runs: %s %q, not %q", dirs[i], dirs[0], k, ids[i][k], ids[0][k])
			}
		}
	}
	shards, err := checkShards(dirs, files)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%v", err)
	}
	for _, set := range []string{"in", "out"} {
		if err := mergeEvalSet(dirs, ids, shards, set, dir); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(wholeIdentity(ids[0]), "", "  ")
	return os.WriteFile(filepath.Join(dir, "run.json"), append(b, '\n'), 0o644)
}

// firstDiff names the first key (in sorted order) other than the shard where a and b differ.
func firstDiff(a, b map[string]string) string {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if !perShard[k] && a[k] != b[k] {
			return k
		}
	}
	return ""
}

// perShard are the identity keys that differ between the shards of one evaluation: the shard and
// what describes each shard's view of a set.
var perShard = map[string]bool{KeyShard: true, "in_count": true, "in_source": true, "in_digest": true,
	"out_count": true, "out_source": true, "out_digest": true}

// wholeIdentity turns a shard's identity into that of the unsharded evaluation.
func wholeIdentity(shard map[string]string) map[string]string {
	id := maps.Clone(shard)
	delete(id, KeyShard)
	for _, set := range []string{"in_", "out_"} {
		id[set+"first"], id[set+"count"] = id[set+KeyShardFirst], id[set+KeyShardCount]
		id[set+"source"], _, _ = strings.Cut(id[set+"source"], " [shard ")
		if d, _, ok := strings.Cut(id[set+"digest"], " shard "); ok {
			id[set+"digest"] = d
		}
		delete(id, set+KeyShardFirst)
		delete(id, set+KeyShardCount)
	}
	return id
}

// mergeEvalSet writes dir/<set>.csv from the shards' files, images renumbered to their indices.
func mergeEvalSet(dirs []string, ids []map[string]string, shards []Shard, set, dir string) error {
	var cols []string
	rows := map[int][]float64{}
	first, err1 := strconv.Atoi(ids[0][set+"_"+KeyShardFirst])
	count, err2 := strconv.Atoi(ids[0][set+"_"+KeyShardCount])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s/run.json: no %s range of the shards", dirs[0], set)
	}
	for i, d := range dirs {
		f, err := scorefile.Read(filepath.Join(d, set+".csv"))
		if err != nil {
			return err
		}
		cols = f.Columns
		v := NewIndexShard(nil, first, count, shards[i])
		if f.Len() != v.Len() {
			return fmt.Errorf("shard %s (%s) is incomplete: %d of %d %s images scored; rerun its command to finish it", shards[i], d, f.Len(), v.Len(), set)
		}
		for r, j := range f.Index {
			row := make([]float64, len(cols))
			for c := range cols {
				row[c] = f.Values[c][r]
			}
			rows[v.Index(j)] = row
		}
	}
	if len(rows) != count {
		return errors.New("the shards' images do not add up to the range")
	}
	w, err := scorefile.Create(filepath.Join(dir, set+".csv"), cols)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		if err := w.Write(k, rows[k]); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// NewShardEval is experiment.NewEval for shard s of an evaluation: each range becomes its
// IndexShard, and the score folder's identity records the shard and the ranges it was cut from,
// for MergeEval.
func NewShardEval(setup experiment.Setup, s Shard) (*experiment.Eval, error) {
	if s.Whole() {
		return experiment.NewEval(setup)
	}
	in := NewIndexShard(setup.In.Data, setup.In.First, setup.In.Count, s)
	out := NewIndexShard(setup.Out.Data, setup.Out.First, setup.Out.Count, s)
	setup.In = experiment.Range{Data: in, First: 0, Count: in.Len()}
	setup.Out = experiment.Range{Data: out, First: 0, Count: out.Len()}
	ev, err := experiment.NewEval(setup)
	if err != nil {
		return nil, err
	}
	ev.Identity[KeyShard] = s.String()
	for set, v := range map[string]*IndexShard{"in": in, "out": out} {
		ev.Identity[set+"_"+KeyShardFirst] = strconv.Itoa(v.First)
		ev.Identity[set+"_"+KeyShardCount] = strconv.Itoa(v.Count)
	}
	return ev, nil
}
