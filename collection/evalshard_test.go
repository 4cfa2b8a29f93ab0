package collection

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/scorefile"
)

// The index shards of a range partition it, in order.
func TestIndexShardPartition(t *testing.T) {
	ds := dataset.Uniform(50, 1)
	for _, n := range []int{1, 3, 4, 7} {
		seen := map[int]int{}
		for i := range n {
			v := NewIndexShard(ds, 13, 30, Shard{i, n})
			for j := range v.Len() {
				k := v.Index(j)
				if k%n != i || k < 13 || k >= 43 || (j > 0 && k <= v.Index(j-1)) {
					t.Fatalf("n=%d shard %d: image %d is index %d", n, i, j, k)
				}
				seen[k]++
			}
		}
		if len(seen) != 30 {
			t.Errorf("n=%d: shards cover %d of 30 images", n, len(seen))
		}
	}
	a, b := make([]float32, dataset.Pixels), make([]float32, dataset.Pixels)
	v := NewIndexShard(ds, 13, 30, Shard{2, 4})
	v.Image(3, a)
	ds.Image(v.Index(3), b)
	if fmt.Sprint(a[:5]) != fmt.Sprint(b[:5]) {
		t.Error("Image(j) is not the underlying image Index(j)")
	}
}

// MergeEval renumbers the shards' rows and refuses a missing or foreign shard.
func TestMergeEval(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i := range 2 {
		d := filepath.Join(root, fmt.Sprint(i))
		os.MkdirAll(d, 0o755)
		id := map[string]string{"magnitude": "0.0014", KeyShard: fmt.Sprintf("%d/2", i),
			"in_" + KeyShardFirst: "10", "in_" + KeyShardCount: "5", "out_" + KeyShardFirst: "0", "out_" + KeyShardCount: "3"}
		b, _ := json.Marshal(id)
		os.WriteFile(filepath.Join(d, "run.json"), b, 0o644)
		for set, v := range map[string]*IndexShard{"in": NewIndexShard(nil, 10, 5, Shard{i, 2}), "out": NewIndexShard(nil, 0, 3, Shard{i, 2})} {
			w, _ := scorefile.Create(filepath.Join(d, set+".csv"), []string{"odin"})
			for j := range v.Len() {
				w.Write(j, []float64{float64(v.Index(j))})
			}
			w.Close()
		}
		dirs = append(dirs, d)
	}
	out := filepath.Join(root, "merged")
	if err := MergeEval(dirs, out); err != nil {
		t.Fatal(err)
	}
	f, err := scorefile.Read(filepath.Join(out, "in.csv"))
	if err != nil || fmt.Sprint(f.Index) != "[10 11 12 13 14]" || fmt.Sprint(f.Values[0]) != "[10 11 12 13 14]" {
		t.Errorf("merged in.csv: %+v, %v", f, err)
	}
	if err := MergeEval(dirs[:1], out); err == nil || !strings.Contains(err.Error(), "shard 1/2 missing") {
		t.Errorf("missing shard: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dirs[1], "run.json"))
	os.WriteFile(filepath.Join(dirs[1], "run.json"), []byte(strings.Replace(string(b), "0.0014", "0.002", 1)), 0o644)
	if err := MergeEval(dirs, out); err == nil || !strings.Contains(err.Error(), "different runs: magnitude") {
		t.Errorf("other magnitude: %v", err)
	}
}
