package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odin-ood/odin/scorefile"
)

// ScoreFiles are the score files of one run and what was recorded with them.
type ScoreFiles struct {
	Methods []Method
	// Run is the run.json beside the score files (odin eval --scores writes one: network,
	// parameters, sets, range; its cache one per set, merged here with the in-distribution
	// one's entries first), or nil if there is none.
	Run map[string]string
}

// ReadScoreFiles reads the named columns (all columns of the in-distribution file if columns is
// empty) of an in-distribution and an OOD score file (package scorefile's format), and the
// run.json beside the first if there is one. A NaN score is an error naming its line.
func ReadScoreFiles(inPath, outPath string, columns []string) (*ScoreFiles, error) {
	in, err := scorefile.Read(inPath)
	if err != nil {
		return nil, err
	}
	out, err := scorefile.Read(outPath)
	if err != nil {
		return nil, err
	}
	if len(columns) == 0 {
		columns = in.Columns
	}
	sf := &ScoreFiles{}
	for _, c := range columns {
		if slices.ContainsFunc(sf.Methods, func(m Method) bool { return m.Name == c }) {
			return nil, fmt.Errorf("column %s named twice", c)
		}
		a, err := column(in, inPath, c)
		if err != nil {
			return nil, err
		}
		b, err := column(out, outPath, c)
		if err != nil {
			return nil, err
		}
		sf.Methods = append(sf.Methods, Method{Name: c, In: a, Out: b})
	}
	// odin eval --scores keeps both files and one run.json in a folder; its cache keeps each set's
	// scores in a folder of their own, each with a run.json.
	separate := filepath.Dir(inPath) != filepath.Dir(outPath)
	for i, p := range []string{inPath, outPath} {
		if i == 1 && !separate {
			break
		}
		run, err := readRun(filepath.Join(filepath.Dir(p), "run.json"))
		if err != nil {
			return nil, err
		}
		for k, v := range run {
			if separate && slices.Contains(imageKeys, k) { // a cache folder's own set: name it as a run does
				k = []string{"in_", "out_"}[i] + k
			}
			if sf.Run == nil {
				sf.Run = map[string]string{}
			}
			if _, ok := sf.Run[k]; !ok {
				sf.Run[k] = v
			}
		}
	}
	return sf, nil
}

// imageKeys are the keys of a cache folder's run.json that describe its set of images.
var imageKeys = []string{"set", "source", "digest", "construction", "seed", "first", "count"}

// readRun reads a run.json, or returns nil if there is none.
func readRun(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var run map[string]string
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return run, nil
}

func column(f *scorefile.File, path, name string) ([]float64, error) {
	v, err := f.Column(name)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("scores %s: no rows", path)
	}
	for r, x := range v {
		if math.IsNaN(x) {
			return nil, fmt.Errorf("scores %s:%d: NaN in column %s (index %d)", path, r+2, name, f.Index[r])
		}
	}
	return v, nil
}

// SetNames returns the in-distribution and OOD set names a run.json records (in_set and out_set,
// or the older in_dataset and out_dataset), "" where it records none.
func SetNames(run map[string]string) (in, out string) {
	in, out = run["in_set"], run["out_set"]
	if in == "" {
		in = run["in_dataset"]
	}
	if out == "" {
		out = run["out_dataset"]
	}
	return in, out
}

// RunParams lists a run.json's entries as report parameters, in a fixed order: the network,
// the ODIN parameters, the sets and ranges, then the rest alphabetically.
func RunParams(run map[string]string) [][2]string {
	order := []string{"nn", "network", "checkpoint", "kernel", "temperature", "magnitude", "methods", "stats",
		"in_dataset", "out_dataset", "first", "count", "construction", "seed",
		"in_set", "in_source", "in_digest", "in_first", "in_count",
		"out_set", "out_source", "out_digest", "out_construction", "out_seed", "out_first", "out_count"}
	var p [][2]string
	for _, k := range order {
		if v, ok := run[k]; ok {
			p = append(p, [2]string{k, v})
		}
	}
	var rest []string
	for k := range run {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		p = append(p, [2]string{k, run[k]})
	}
	return p
}

// ParseColumns splits a comma-separated list of score columns.
func ParseColumns(s string) []string {
	var cols []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}
