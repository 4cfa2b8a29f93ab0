package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/odin-ood/odin/collection"
	"github.com/odin-ood/odin/metrics"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// writeImages writes n random 32×32 PNGs named dir/<set>/NNN.png and returns their paths.
func writeImages(t *testing.T, dir, set string, n int, seed uint64) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	os.MkdirAll(filepath.Join(dir, set), 0o755)
	var paths []string
	for i := range n {
		m := image.NewNRGBA(image.Rect(0, 0, 32, 32))
		for p := range m.Pix {
			m.Pix[p] = uint8(r.IntN(256))
			if set == "in" {
				m.Pix[p] /= 4 // a different distribution, so the metrics are not trivial
			}
			if p%4 == 3 {
				m.Pix[p] = 255
			}
		}
		var b bytes.Buffer
		png.Encode(&b, m)
		p := filepath.Join(dir, set, fmt.Sprintf("%03d.png", i))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func writeList(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPrismMatchesOdinScore runs the pipeline on Prism over 40 images and an unreadable file:
// its four shards merge into exactly the file odin score writes for the whole collection, the
// unreadable image is reported by path in the dead letters, and the in-pipeline metrics equal
// package metrics' on the scores.
func TestPrismMatchesOdinScore(t *testing.T) {
	dir := t.TempDir()
	in := writeImages(t, dir, "in", 20, 1)
	out := writeImages(t, dir, "out", 20, 2)
	bad := filepath.Join(dir, "out", "zzz-corrupt.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	out = append(out, bad)
	writeList(t, filepath.Join(dir, "in.txt"), in)
	writeList(t, filepath.Join(dir, "out.txt"), append([]string{"# OOD images"}, out...))

	cfg := collection.Config{NN: filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth"),
		Temperature: 1000, Magnitude: 0.0014, Workers: 2, Batch: 4}
	p, s := beam.NewPipelineWithRoot()
	res := filepath.Join(dir, "beam")
	if _, err := Build(s, Options{Config: cfg, InLists: []string{filepath.Join(dir, "in.txt")},
		OutLists: []string{filepath.Join(dir, "out.txt")}, Output: res, Shards: 4, Flush: 7}); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	// odin score on the same images.
	scorer, meta, err := cfg.Load()
	if err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "whole.csv")
	inputs, err := collection.List([]string{filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")})
	if err != nil {
		t.Fatal(err)
	}
	job := &collection.Job{Scorer: scorer, Inputs: inputs, Out: whole, Meta: meta}
	if sum, err := job.Run(context.Background()); err != nil || sum.Failed != 1 {
		t.Fatalf("odin score: %+v, %v", sum, err)
	}
	var shards []string
	for i := range 4 {
		shards = append(shards, filepath.Join(res, fmt.Sprintf("scores-%05d-of-00004.csv", i)))
	}
	merged, err := collection.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	collection.Encode(&got, merged)
	want, _ := os.ReadFile(whole)
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("merged Beam shards differ from odin score's file:\n%s\nwant\n%s", got.Bytes(), want)
	}

	dead, _ := os.ReadFile(filepath.Join(res, "dead-letter.txt"))
	if lines := strings.Split(strings.TrimSpace(string(dead)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], bad+"\t") || !strings.Contains(lines[0], "corrupt PNG") {
		t.Errorf("dead letters: %q", dead)
	}

	f, _ := collection.Read(whole)
	byMethod := readMetrics(t, filepath.Join(res, "metrics.jsonl"))
	for _, col := range []string{"baseline", "odin"} {
		var sIn, sOut []float64
		for _, r := range f.Rows {
			if r.Err != "" {
				continue
			}
			c := 0
			if col == "odin" {
				c = 1
			}
			if strings.Contains(r.Path, "/in/") {
				sIn = append(sIn, r.Scores[c])
			} else {
				sOut = append(sOut, r.Scores[c])
			}
		}
		want, err := metrics.Compute(sIn, sOut, metrics.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if g := byMethod[col]; g.In != 20 || g.Out != 20 || g.Metrics != want.Percent() {
			t.Errorf("%s: pipeline metrics %+v, want %+v of 20 + 20 images", col, g, want.Percent())
		}
	}
}

type metricsLineJSON struct {
	Method  string          `json:"method"`
	In      int             `json:"in"`
	Out     int             `json:"out"`
	Metrics metrics.Percent `json:"metrics"`
}

func readMetrics(t *testing.T, path string) map[string]metricsLineJSON {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]metricsLineJSON{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct {
			Method  string          `json:"method"`
			In      int             `json:"in"`
			Out     int             `json:"out"`
			Metrics metrics.Percent `json:"metrics"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		out[m.Method] = metricsLineJSON{Method: m.Method, In: m.In, Out: m.Out, Metrics: m.Metrics}
	}
	return out
}
