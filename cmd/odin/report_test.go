package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/metrics"
)

func runReportCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestMetricsCI checks that --ci keeps today's JSON keys and adds the intervals.
func TestMetricsCI(t *testing.T) {
	in, out := metricsFiles(t)
	code, plain, stderr := runReportCmd("metrics", in, out, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	code, withCI, stderr := runReportCmd("metrics", in, out, "--json", "--ci", "0.9", "--resamples", "200", "--ci-seed", "3")
	if code != 0 {
		t.Fatal(stderr)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(plain), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(withCI), &b); err != nil {
		t.Fatal(err)
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("key %s: %v with --ci, %v without", k, b[k], v)
		}
	}
	ci, _ := b["ci"].(map[string]any)
	fpr, _ := ci["fpr95"].(map[string]any)
	if ci["level"] != 0.9 || ci["resamples"] != 200.0 || fpr["value"] != a["fpr95"] || fpr["ci_low"] == nil || fpr["ci_high"] == nil {
		t.Errorf("ci object %v", ci)
	}
	if !strings.HasPrefix(withCI, `{"fpr95":`) {
		t.Errorf("key order changed: %s", withCI)
	}
	code, table, _ := runReportCmd("metrics", in, out, "--ci", "0.95", "--resamples", "100")
	if code != 0 || !strings.Contains(table, "% [") {
		t.Errorf("table with --ci: exit %d\n%s", code, table)
	}
	for _, bad := range [][]string{{"--ci", "1.5"}, {"--ci", "0.9", "--reference-compat"}, {"--ci", "0.9", "--resamples", "1"}} {
		if code, _, _ := runReportCmd(append([]string{"metrics", in, out}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

// TestReportCommand runs odin report on two score files with a run.json beside them.
func TestReportCommand(t *testing.T) {
	in, out := metricsFiles(t)
	dir := filepath.Dir(in)
	run := `{"nn": "densenet10", "in_dataset": "cifar10", "out_dataset": "Imagenet", "temperature": "1000", "magnitude": "0.0014", "checkpoint": "sha256:feed"}`
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(run), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(t.TempDir(), "rep")
	code, stdout, stderr := runReportCmd("report", in, out, "--out", outDir, "--resamples", "100", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "densenet10: CIFAR-10 against Tiny-ImageNet (crop)") || !strings.Contains(stdout, "odin − baseline") {
		t.Errorf("stdout:\n%s", stdout)
	}
	page, err := os.ReadFile(filepath.Join(outDir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sha256:feed", "odin report ", "--resamples 100", `id="fig-headline"`, "0.0014"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	for _, bad := range [][]string{
		{"report", in, out},                                   // no --out
		{"report", in, "--out", outDir},                       // one file
		{"report", in, out, "--out", outDir, "--ci", "0"},     // no intervals
		{"report", in, out, "--out", outDir, "--column", "x"}, // no such column
	} {
		if code, _, _ := runReportCmd(bad...); code == 0 {
			t.Errorf("%v: exit 0", bad)
		}
	}
}

// TestTuneHeatMap draws a small tuning with package report, as odin tune --plot does, in PNG and
// SVG, for a metric criterion and for the in-distribution score.
func TestTuneHeatMap(t *testing.T) {
	res := &experiment.Tuning{
		Grid:      experiment.Grid{Temperatures: []float64{1, 1000}, Magnitudes: []float64{0, 0.001, 0.002}},
		Criterion: experiment.MinFPR95, Best: 4,
	}
	for i := range 6 {
		r := metrics.Result{FPR95: 0.5 - 0.05*float64(i), DetErr: 0.2, AUROC: 0.9, AUPRIn: 0.9, AUPROut: 0.9}
		res.Cells = append(res.Cells, experiment.Cell{Temperature: res.Grid.Temperatures[i/3], Magnitude: res.Grid.Magnitudes[i%3],
			Result: r, InMean: 0.1 + 0.001*float64(i)})
	}
	dir := t.TempDir()
	for _, c := range []experiment.Criterion{experiment.MinFPR95, experiment.MaxInScore} {
		res.Criterion = c
		png1, svg1 := filepath.Join(dir, "h.png"), filepath.Join(dir, "h.svg")
		if err := writeHeatMap(png1, res, "Tiny-ImageNet (crop)"); err != nil {
			t.Fatal(err)
		}
		if err := writeHeatMap(svg1, res, "Tiny-ImageNet (crop)"); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(png1)
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", c, err)
		}
		s, _ := os.ReadFile(svg1)
		if !bytes.Contains(s, []byte("<svg")) || !bytes.Contains(s, []byte("T = 1000, ε = 0.001")) {
			t.Errorf("%s: SVG lacks the title with the best cell", c)
		}
	}
}

// TestEvalCIAndReport checks odin eval --ci (today's JSON keys kept, intervals added; CSV columns
// added; the table shows intervals) and --report (the report of the run, with its command).
func TestEvalCIAndReport(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	rep := filepath.Join(t.TempDir(), "rep")
	base := []string{"eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", "Gaussian", "--count", "12", "--quiet"}
	code, plain, errText := runCmd(t, append(base, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	code, withCI, errText := runCmd(t, append(base, "--json", "--ci", "0.9", "--resamples", "50", "--report", rep)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(plain), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(withCI), &b); err != nil {
		t.Fatal(err)
	}
	for k, v := range a {
		if fmt.Sprint(b[k]) != fmt.Sprint(v) {
			t.Errorf("key %s: %v with --ci, %v without", k, b[k], v)
		}
	}
	ci, _ := b["ci"].(map[string]any)
	odin, _ := ci["odin"].(map[string]any)
	fpr, _ := odin["fpr95"].(map[string]any)
	if ci["level"] != 0.9 || fpr["value"] != a["odin"].(map[string]any)["fpr95"] || fpr["ci_low"] == nil {
		t.Errorf("ci %v", ci)
	}
	page, err := os.ReadFile(filepath.Join(rep, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("odin eval --nn")) || !bytes.Contains(page, []byte("sha256:")) || !bytes.Contains(page, []byte(`id="fig-headline"`)) {
		t.Error("the report lacks the command, the checkpoint digest or the headline figure")
	}
	code, csvText, _ := runCmd(t, append(base, "--csv", "--ci", "0.95", "--resamples", "50")...)
	if code != 0 || !strings.Contains(strings.SplitN(csvText, "\n", 2)[0], ",fpr95_ci_low,fpr95_ci_high,") {
		t.Errorf("CSV with --ci: exit %d\n%s", code, csvText)
	}
	code, table, _ := runCmd(t, append(base, "--ci", "0.95", "--resamples", "50")...)
	if code != 0 || !strings.Contains(table, "% [") || !strings.Contains(table, "Intervals:") {
		t.Errorf("table with --ci: exit %d\n%s", code, table)
	}
	if code, _, _ := runCmd(t, append(base, "--ci", "2")...); code != 2 {
		t.Errorf("--ci 2: exit %d, want 2", code)
	}
}
