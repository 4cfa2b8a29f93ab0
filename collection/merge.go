package collection

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Merge reads the shard files of one job and joins them into one file, refusing shards of
// different runs, a missing, repeated or incomplete shard, and an image that is in two shards,
// twice in one, or in the wrong shard. The rows of the result are sorted by path.
func Merge(paths []string) (*File, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no shard files")
	}
	files := make([]*File, len(paths))
	for i, p := range paths {
		f, err := Read(p)
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	shards, err := checkShards(paths, files)
	if err != nil {
		return nil, err
	}
	out := &File{Meta: files[0].Meta, Format: files[0].Format}
	out.Meta.Shard, out.Meta.Count = "", out.Meta.Total
	where := make(map[string]int, out.Meta.Total)
	for i, f := range files {
		for _, r := range f.Rows {
			if j, dup := where[r.Path]; dup {
				if j == i {
					return nil, fmt.Errorf("image %s is twice in %s", r.Path, paths[i])
				}
				return nil, fmt.Errorf("image %s is in two shards: %s (%s) and %s (%s)", r.Path, paths[j], files[j].Meta.Shard, paths[i], f.Meta.Shard)
			}
			where[r.Path] = i
		}
	}
	// Membership is checked after duplicates, so that an image copied into another shard is
	// reported as what it is.
	for i, f := range files {
		for _, r := range f.Rows {
			if !shards[i].Holds(r.Path) {
				return nil, fmt.Errorf("image %s in %s belongs to shard %d/%d, not %s", r.Path, paths[i], Of(r.Path, shards[i].N), shards[i].N, f.Meta.Shard)
			}
		}
		if len(f.Rows) != f.Meta.Count {
			return nil, fmt.Errorf("shard %s (%s) is incomplete: %d of %d images scored; rerun its command to finish it", shardName(f), paths[i], len(f.Rows), f.Meta.Count)
		}
		out.Rows = append(out.Rows, f.Rows...)
	}
	slices.SortFunc(out.Rows, func(a, b Row) int { return cmp.Compare(a.Path, b.Path) })
	if len(out.Rows) != out.Meta.Total {
		return nil, fmt.Errorf("%d images in the shards, the collection has %d", len(out.Rows), out.Meta.Total)
	}
	return out, nil
}

func shardName(f *File) string {
	if f.Meta.Shard == "" {
		return "(whole)"
	}
	return f.Meta.Shard
}

// checkShards checks that the files are the shards 0/n … n−1/n of one run, each once.
func checkShards(paths []string, files []*File) ([]Shard, error) {
	shards := make([]Shard, len(files))
	for i, f := range files {
		s, err := ParseShard(f.Meta.Shard)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", paths[i], err)
		}
		shards[i] = s
		if i == 0 {
			continue
		}
		if err := sameMeta(&f.Meta, &files[0].Meta, false); err != nil {
			return nil, fmt.Errorf("%s and %s are shards of different runs: %v", paths[i], paths[0], err)
		}
		if s.N != shards[0].N {
			return nil, fmt.Errorf("%s is shard %s, %s is shard %s: different splits", paths[i], shardName(f), paths[0], shardName(files[0]))
		}
	}
	n := max(shards[0].N, 1)
	given := make([]int, n)
	for i := range given {
		given[i] = -1
	}
	for i, s := range shards {
		if j := given[s.I]; j >= 0 {
			return nil, fmt.Errorf("shard %s given twice: %s and %s", shardName(files[i]), paths[j], paths[i])
		}
		given[s.I] = i
	}
	var missing []string
	for k, i := range given {
		if i < 0 {
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("shard %s missing (%d of %d files given)", strings.Join(missing, ", "), len(files), n)
	}
	return shards, nil
}
