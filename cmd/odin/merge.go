package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/odin-ood/odin/collection"
)

func init() {
	register("merge", "join the shard score files of odin score --shard into one, checking none is missing or repeated", cmdMerge)
}

// cmdMerge implements
//
//	odin merge [--out FILE] SHARD.csv…
//	odin merge --out DIR SHARDDIR…      (score folders of odin eval --shard)
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge")
	out := fs.String("out", "", "merged score file to write (default: standard output); for score folders of odin eval --shard, the folder")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("want the shard files of one job (see odin merge --help)")
	}
	if st, err := os.Stat(pos[0]); err == nil && st.IsDir() {
		// Score folders of odin eval --shard.
		if *out == "" {
			return usageError("merging score folders of odin eval --shard needs --out DIR")
		}
		if err := collection.MergeEval(pos, *out); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "%s: in.csv, out.csv and run.json of %d shards (odin metrics %s/in.csv %s/out.csv)\n", *out, len(pos), *out, *out)
		return err
	}
	m, err := collection.Merge(pos)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := 0
	for _, r := range m.Rows {
		if r.Err != "" {
			failed++
		}
	}
	if *out == "" {
		return collection.Encode(stdout, m)
	}
	if err := collection.WriteFile(*out, m); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %d shards, %d images, %d unreadable\n", *out, len(pos), len(m.Rows), failed)
	return err
}

// readScoreColumn reads one column of a score file of odin score or odin merge for odin metrics;
// rows of unreadable images, which have no scores, are left out.
func readScoreColumn(path, column string) ([]float64, error) {
	f, err := collection.Read(path)
	if err != nil {
		return nil, err
	}
	v, _, err := f.Column(column)
	if err != nil {
		return nil, fmt.Errorf("scores %s: %v", path, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("scores %s: no scored rows", path)
	}
	for _, x := range v {
		if math.IsNaN(x) {
			return nil, fmt.Errorf("scores %s: NaN in column %s", path, column)
		}
	}
	return v, nil
}
