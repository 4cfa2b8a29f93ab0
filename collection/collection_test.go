package collection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// writeImages writes n random 32×32 PNGs into dir/a and dir/b and returns dir.
func writeImages(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		sub := filepath.Join(dir, string(rune('a'+i%2)))
		os.MkdirAll(sub, 0o755)
		m := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for p := range m.Pix {
			m.Pix[p] = uint8(r.IntN(256))
		}
		for p := 3; p < len(m.Pix); p += 4 {
			m.Pix[p] = 255
		}
		var b bytes.Buffer
		png.Encode(&b, m)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("img%03d.png", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testScorer(t *testing.T) *Scorer { return testScorerWith(t, 2, 4) }

func testScorerWith(t *testing.T, workers, batch int) *Scorer {
	t.Helper()
	m, err := models.Load(filepath.Join("..", "models", "testdata", "densenet-22-4.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	return NewScorer(m, []ood.Detector{ood.MSP{}, &ood.ODIN{Temperature: 1000, Magnitude: 0.0014}}, workers, batch)
}

func testMeta() Meta {
	return Meta{Network: "test", Checkpoint: "sha256:00", Kernel: "k", Params: map[string]string{"magnitude": "0.0014"}}
}

func runJob(t *testing.T, ctx context.Context, inputs []string, shard Shard, out string) (Summary, error) {
	t.Helper()
	j := &Job{Scorer: testScorer(t), Inputs: inputs, Shard: shard, Out: out, Meta: testMeta()}
	return j.Run(ctx)
}

// scoreWhole writes n images, lists them and scores them unsharded into whole.csv in a new
// folder out, checking that every image was scored.
func scoreWhole(t *testing.T, n int) (inputs []string, out, whole string) {
	t.Helper()
	inputs, err := List([]string{writeImages(t, n)})
	if err != nil || len(inputs) != n {
		t.Fatalf("List: %d inputs, %v", len(inputs), err)
	}
	out = t.TempDir()
	whole = filepath.Join(out, "whole.csv")
	if s, err := runJob(t, context.Background(), inputs, Shard{}, whole); err != nil || s.Scored != n || s.Failed != 0 {
		t.Fatalf("whole run: %+v, %v", s, err)
	}
	return inputs, out, whole
}

// TestShardsMergeToWhole: four shards merged equal the unsharded file byte for byte, and a shard
// killed halfway (cancelled, with a half-written last line) and rerun changes nothing.
func TestShardsMergeToWhole(t *testing.T) {
	ctx := context.Background()
	inputs, out, whole := scoreWhole(t, 40)
	var shards []string
	for i := range 4 {
		p := filepath.Join(out, fmt.Sprintf("shard%d.csv", i))
		shards = append(shards, p)
		if i == 2 {
			killHalfway(t, inputs, Shard{2, 4}, p)
		}
		if _, err := runJob(t, ctx, inputs, Shard{i, 4}, p); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Encode(&got, m); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(whole)
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("merged shards differ from the whole run:\n%s\nwant\n%s", got.Bytes(), want)
	}
	f, err := Read(whole)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Rows {
		if r.Class < 0 || r.Class >= 10 || r.Scores[0] <= 0 || r.Scores[0] > 1 {
			t.Fatalf("implausible row %+v", r)
		}
	}
}

// killHalfway runs a shard until half its images are done, then leaves a half-written row as a
// killed process would.
func killHalfway(t *testing.T, inputs []string, s Shard, path string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{Scorer: testScorerWith(t, 1, 1), Inputs: inputs, Shard: s, Out: path, Meta: testMeta()}
	j.Progress = func(done, total int) {
		if done >= total/2 {
			cancel()
		}
	}
	sum, err := j.Run(ctx)
	if !errors.Is(err, context.Canceled) || sum.Scored == 0 || sum.Scored >= sum.Count {
		t.Fatalf("interrupted shard: %+v, %v", sum, err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("/tmp/x/half-written.png,0.12")
	f.Close()
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("reading a killed shard: %v", err)
	}
	if _, err := Merge([]string{path}); err == nil {
		t.Fatal("merged a killed shard")
	}
}

func TestMergeRefuses(t *testing.T) {
	ctx := context.Background()
	inputs, _ := List([]string{writeImages(t, 12)})
	dir := t.TempDir()
	var shards []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("s%d.csv", i))
		shards = append(shards, p)
		if _, err := runJob(t, ctx, inputs, Shard{i, 3}, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Merge(shards); err != nil {
		t.Fatal(err)
	}
	edit := func(name string, change func(f *File)) string {
		f, err := Read(shards[0])
		if err != nil {
			t.Fatal(err)
		}
		change(f)
		p := filepath.Join(dir, name)
		if err := WriteFile(p, f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other, _ := Read(shards[1])
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"missing shard", shards[:2], "shard 2/3 missing"},
		{"shard twice", []string{shards[0], shards[1], shards[2], shards[1]}, "shard 1/3 given twice"},
		{"duplicated image", []string{edit("dup.csv", func(f *File) { f.Rows = append(f.Rows, other.Rows[0]) }), shards[1], shards[2]}, "in two shards"},
		{"image twice in a shard", []string{edit("twice.csv", func(f *File) { f.Rows = append(f.Rows, f.Rows[0]) }), shards[1], shards[2]}, "is twice in"},
		{"other model", []string{edit("model.csv", func(f *File) { f.Meta.Checkpoint = "sha256:ff" }), shards[1], shards[2]}, "different runs: checkpoint"},
		{"other parameters", []string{edit("param.csv", func(f *File) { f.Meta.Params["magnitude"] = "0.002" }), shards[1], shards[2]}, "different runs: params"},
		{"incomplete", []string{edit("short.csv", func(f *File) { f.Rows = f.Rows[1:] }), shards[1], shards[2]}, "incomplete"},
	}
	for _, c := range cases {
		_, err := Merge(c.files)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", c.name, err, c.want)
		}
	}
}

func TestUnreadableAndJSONL(t *testing.T) {
	dir := writeImages(t, 6)
	bad := filepath.Join(dir, "a", "zz-bad.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ngarbage"), 0o644)
	big := filepath.Join(dir, "b", "zz-big.png")
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 48)))
	os.WriteFile(big, b.Bytes(), 0o644)
	inputs, err := List([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "s.jsonl")
	j := &Job{Scorer: testScorer(t), Inputs: inputs, Out: out, Format: JSONL, Meta: testMeta()}
	j.Scorer.Decide = func(s []float64) string {
		if s[1] >= 0.1 {
			return "in"
		}
		return "out"
	}
	j.Meta.Threshold = "0.1"
	sum, err := j.Run(context.Background())
	if err != nil || sum.Failed != 2 || sum.Scored != 8 {
		t.Fatalf("%+v, %v", sum, err)
	}
	f, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string]string{}
	for _, r := range f.Rows {
		if r.Err != "" {
			errs[r.Path] = r.Err
		} else if r.Decision == "" {
			t.Errorf("%s: no decision", r.Path)
		}
	}
	if !strings.Contains(errs[bad], "corrupt PNG") || !strings.Contains(errs[big], "64x48") {
		t.Errorf("errors: %q", errs)
	}
	col, failed, err := f.Column("odin")
	if err != nil || len(col) != 6 || failed != 2 {
		t.Errorf("Column: %d values, %d failed, %v", len(col), failed, err)
	}
	// A rerun with the same metadata has nothing to do; with other metadata it is refused.
	if sum, err := j.Run(context.Background()); err != nil || sum.Resumed != 8 || sum.Scored != 0 {
		t.Errorf("rerun: %+v, %v", sum, err)
	}
	j.Meta.Params = map[string]string{"magnitude": "0"}
	if _, err := j.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("rerun with other parameters: %v", err)
	}
}

func TestList(t *testing.T) {
	dir := writeImages(t, 4)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".hidden"), 0o755)
	os.WriteFile(filepath.Join(dir, ".hidden", "x.png"), []byte("x"), 0o644)
	got, err := List([]string{dir})
	want := []string{dir + "/a/img000.png", dir + "/a/img002.png", dir + "/b/img001.png", dir + "/b/img003.png"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("folder: %q, %v", got, err)
	}
	if got, err := List([]string{dir + "/*/img00[01].png"}); err != nil || len(got) != 2 {
		t.Errorf("glob: %q, %v", got, err)
	}
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("# images\n"+want[1]+"\n\n  http://127.0.0.1:1/x.png  \n"), 0o644)
	if got, err := List([]string{list, want[0]}); err != nil || strings.Join(got, " ") != want[1]+" http://127.0.0.1:1/x.png "+want[0] {
		t.Errorf("list: %q, %v", got, err)
	}
	for _, bad := range [][]string{{list, want[1]}, {dir + "/nothing"}, {dir + "/*.gif"}, {}} {
		if _, err := List(bad); err == nil {
			t.Errorf("List(%q) accepted", bad)
		}
	}
}

func TestShardOf(t *testing.T) {
	// FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; (0xaf63dc4c8601ec8c * 1000) >> 64 = 685.
	if got := Of("a", 1000); got != 685 {
		t.Errorf("Of(a, 1000) = %d, want 685", got)
	}
	// Names that differ only in bytes with equal low bits ('a', 'e', 'i', …) spread too.
	for _, format := range []string{"img/%05d.png", "%c.png"} {
		counts := make([]int, 4)
		for i := range 4000 {
			arg := any(i)
			if format == "%c.png" {
				arg = rune('a' + 4*(i%6) + 0x100*(i/6))
			}
			counts[Of(fmt.Sprintf(format, arg), 4)]++
		}
		for i, c := range counts {
			if c < 900 || c > 1100 {
				t.Errorf("%s: shard %d holds %d of 4000", format, i, c)
			}
		}
	}
	for _, bad := range []string{"4/4", "-1/4", "1/0", "1", "a/b"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

func TestFetcher(t *testing.T) {
	var b bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 32, 32))
	m.Set(1, 1, color.RGBA{255, 0, 0, 255})
	png.Encode(&b, m)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img.png":
			w.Write(b.Bytes())
		case "/big":
			w.Write(make([]byte, 5000))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := &Fetcher{MaxBytes: 4096, Timeout: 100 * time.Millisecond}
	ctx := context.Background()
	if got, err := f.Read(ctx, srv.URL+"/img.png"); err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Errorf("img: %d bytes, %v", len(got), err)
	}
	for path, want := range map[string]string{"/big": "limit", "/slow": "deadline", "/none": "404"} {
		if _, err := f.Read(ctx, srv.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// Scoring from URLs gives the same scores as from the file.
	dir := t.TempDir()
	p := filepath.Join(dir, "img.png")
	os.WriteFile(p, b.Bytes(), 0o644)
	s := testScorer(t)
	var rows []Row
	collect := func(r []Row) error { rows = append(rows, r...); return nil }
	if err := s.Score(ctx, []string{p, srv.URL + "/img.png", srv.URL + "/none"}, collect); err != nil {
		t.Fatal(err)
	}
	if rows[0].Err != "" || fmt.Sprint(rows[0].Scores) != fmt.Sprint(rows[1].Scores) || !strings.Contains(rows[2].Err, "404") {
		t.Errorf("rows %+v", rows)
	}
}

// Images decode exactly as odin eval's image folders decode them, JPEG included.
func TestDecodeAsFolder(t *testing.T) {
	dir := writeImages(t, 3)
	m := image.NewRGBA(image.Rect(0, 0, 32, 32))
	r := rand.New(rand.NewPCG(7, 7))
	for p := range m.Pix {
		m.Pix[p] = uint8(r.IntN(256))
	}
	var b bytes.Buffer
	jpeg.Encode(&b, m, &jpeg.Options{Quality: 75})
	os.WriteFile(filepath.Join(dir, "b", "z.jpg"), b.Bytes(), 0o644)
	f, err := dataset.OpenFolder(dir, dataset.FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := List([]string{dir})
	want, got := make([]float32, dataset.Pixels), make([]float32, dataset.Pixels)
	for i, p := range paths {
		data, _ := (&Fetcher{}).Read(context.Background(), p)
		if err := dataset.DecodeImage(p, data, dataset.ResizeMode{}, got); err != nil {
			t.Fatal(err)
		}
		if f.Path(i) != p {
			t.Fatalf("image %d: folder has %s, List %s", i, f.Path(i), p)
		}
		f.Image(i, want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s decodes differently from the folder's image", p)
		}
	}
}

// TestEmptyShardsMerge: a collection of 3 images split 16 ways leaves most shards empty; each
// still gets a score file (metadata, no rows), a rerun leaves it as it was, and the 16 merge to
// the unsharded file byte for byte. An empty collection is refused.
func TestEmptyShardsMerge(t *testing.T) {
	ctx := context.Background()
	inputs, out, whole := scoreWhole(t, 3)
	var shards []string
	empty := 0
	for i := range 16 {
		p := filepath.Join(out, fmt.Sprintf("shard%d.csv", i))
		shards = append(shards, p)
		for range 2 {
			s, err := runJob(t, ctx, inputs, Shard{i, 16}, p)
			if err != nil {
				t.Fatalf("shard %d/16: %v", i, err)
			}
			if s.Count == 0 {
				empty++
			}
		}
		if f, err := Read(p); err != nil || f.Meta.Count != len(f.Rows) {
			t.Fatalf("shard %d/16: %v", i, err)
		}
	}
	if empty < 2*13 {
		t.Fatalf("%d empty shard runs, want at least 26 of 32", empty)
	}
	m, err := Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Encode(&got, m); err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(whole); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("merged shards differ from the whole run:\n%s\nwant\n%s", got.Bytes(), want)
	}
	if _, err := runJob(t, ctx, nil, Shard{0, 2}, filepath.Join(out, "none.csv")); err == nil || !strings.Contains(err.Error(), "collection holds no images") {
		t.Errorf("empty collection: %v", err)
	}
}
