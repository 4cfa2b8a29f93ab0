package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePNGs(t *testing.T, dir string, n int, seed uint64) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range n {
		m := image.NewGray(image.Rect(0, 0, 32, 32))
		for p := range m.Pix {
			m.Pix[p] = uint8(r.IntN(256 - 100*int(seed%2)))
		}
		var b bytes.Buffer
		png.Encode(&b, m)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.png", i)), b.Bytes(), 0o644)
	}
}

func runScoreCmd(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestScoreShardsMergeMetrics: odin score in three shards, odin merge, and odin metrics on the
// merged files give the unsharded files and their metrics; odin merge refuses a missing shard
// with one line.
func TestScoreShardsMergeMetrics(t *testing.T) {
	dir := t.TempDir()
	writePNGs(t, filepath.Join(dir, "in"), 12, 1)
	writePNGs(t, filepath.Join(dir, "out"), 12, 2)
	net := filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth")
	common := []string{"--nn", net, "--workers", "2", "--batch", "4", "--quiet", "--cache", t.TempDir()}
	metricsOf := func(in, out string) string {
		code, o, e := runScoreCmd("metrics", "--json", in, out)
		if code != 0 {
			t.Fatalf("metrics: %s", e)
		}
		return o
	}
	var whole [2]string
	for k, set := range []string{"in", "out"} {
		whole[k] = filepath.Join(dir, set+".csv")
		if code, _, e := runScoreCmd(append(append([]string{"score"}, common...), "--out", whole[k], filepath.Join(dir, set))...); code != 0 {
			t.Fatalf("score %s: %s", set, e)
		}
		var shards []string
		for i := range 3 {
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", set, i))
			shards = append(shards, p)
			if code, _, e := runScoreCmd(append(append([]string{"score"}, common...), "--format", "jsonl", "--shard", fmt.Sprintf("%d/3", i), "--out", p, filepath.Join(dir, set))...); code != 0 {
				t.Fatalf("score shard %d: %s", i, e)
			}
		}
		merged := filepath.Join(dir, set+"-merged.jsonl")
		if code, _, e := runScoreCmd(append([]string{"merge", "--out", merged}, shards...)...); code != 0 {
			t.Fatalf("merge: %s", e)
		}
		if k == 1 {
			if metricsOf(whole[0], whole[1]) != metricsOf(filepath.Join(dir, "in-merged.jsonl"), merged) {
				t.Error("metrics of the merged shards differ from the unsharded files'")
			}
		}
		code, _, e := runScoreCmd(append([]string{"merge"}, shards[0], shards[2])...)
		if code != 1 || !strings.Contains(e, "shard 1/3 missing") || strings.Count(e, "\n") != 1 {
			t.Errorf("merge without shard 1: exit %d, %q", code, e)
		}
	}
	if code, _, e := runScoreCmd("score", "--nn", net, filepath.Join(dir, "in")); code != 2 || !strings.Contains(e, "--out") {
		t.Errorf("score without --out: exit %d, %q", code, e)
	}
}

// TestEvalShardsMerge: odin eval --shard i/3 in three score folders, merged by odin merge, gives
// the unsharded run's score files byte for byte, and odin metrics on them its metrics.
func TestEvalShardsMerge(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth")
	common := []string{"eval", "--nn", net, "--in_dataset", "Uniform", "--out_dataset", "Gaussian", "--first", "5", "--count", "20",
		"--workers", "2", "--batch", "4", "--quiet", "--json", "--cache", t.TempDir()}
	whole := filepath.Join(dir, "whole")
	if code, _, e := runScoreCmd(append(common, "--scores", whole)...); code != 0 {
		t.Fatalf("eval: %s", e)
	}
	var shards []string
	for i := range 3 {
		d := filepath.Join(dir, fmt.Sprint(i))
		shards = append(shards, d)
		if code, _, e := runScoreCmd(append(common, "--scores", d, "--shard", fmt.Sprintf("%d/3", i))...); code != 0 {
			t.Fatalf("eval shard %d: %s", i, e)
		}
	}
	merged := filepath.Join(dir, "merged")
	if code, _, e := runScoreCmd(append([]string{"merge", "--out", merged}, shards...)...); code != 0 {
		t.Fatalf("merge: %s", e)
	}
	for _, f := range []string{"in.csv", "out.csv", "run.json"} {
		a, _ := os.ReadFile(filepath.Join(whole, f))
		b, _ := os.ReadFile(filepath.Join(merged, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s of the merged shards differs from the unsharded run's", f)
		}
	}
	if code, _, e := runScoreCmd("merge", "--out", merged, shards[0], shards[2]); code != 1 || !strings.Contains(e, "shard 1/3 missing") {
		t.Errorf("merge without shard 1: exit %d, %q", code, e)
	}
	if code, _, e := runScoreCmd(append(common, "--shard", "1/3")...); code != 2 || !strings.Contains(e, "--scores") {
		t.Errorf("--shard without --scores: exit %d, %q", code, e)
	}
}

// odin score's --resize is the filter that brings images to a 32×32 network's side, not a
// preprocessing: given alone it scores images of other sizes.
func TestScoreResizeFilter(t *testing.T) {
	dir := t.TempDir()
	m := image.NewGray(image.Rect(0, 0, 40, 36))
	var b bytes.Buffer
	png.Encode(&b, m)
	os.WriteFile(filepath.Join(dir, "big.png"), b.Bytes(), 0o644)
	net := filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth")
	out := filepath.Join(t.TempDir(), "s.csv")
	code, o, e := runScoreCmd("score", "--nn", net, "--resize", "bilinear", "--quiet", "--cache", t.TempDir(), "--out", out, dir)
	if code != 0 || !strings.Contains(o, "1 images, 0 already there, 1 scored") || !strings.Contains(o, "0 unreadable") {
		t.Errorf("--resize bilinear: exit %d, %q, %q", code, o, e)
	}
}
