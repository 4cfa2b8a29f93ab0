package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// smallNetPath is a small random DenseNet-BC from the models' test data.
var smallNetPath = filepath.Join("..", "..", "models", "testdata", "densenet-22-4.pth")

// noiseFolder writes n 32×32 PNG images of uniform noise, a validation set that the small network
// cannot tell from the Uniform set, so that the metrics are far from perfect.
func noiseFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	for i := range n {
		img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				img.Set(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestTuneCellsMatchEval(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	val := noiseFolder(t, 14)
	dir := t.TempDir()
	gridPath, plotPath := filepath.Join(dir, "grid.csv"), filepath.Join(dir, "heat.png")
	args := []string{"tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", val, "--count", "14",
		"--temperatures", "1,1000", "--magnitudes", "0:0.002:3", "--workers", "2", "--batch", "3", "--quiet",
		"--grid", gridPath, "--plot", plotPath, "--search", "full"}
	code, out, errText := runCmd(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	var best map[string]any
	if err := json.Unmarshal([]byte(out), &best); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, k := range []string{"temperature", "magnitude", "criterion", "fpr95", "det_err", "auroc", "aupr_in", "aupr_out"} {
		if _, ok := best[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	grid1, _ := os.ReadFile(gridPath)

	// Every cell of the grid file is what odin eval reports for its parameters on the same images.
	rows, err := csv.NewReader(bytes.NewReader(grid1)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != "temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out" {
		t.Fatalf("grid file:\n%s", grid1)
	}
	bestSeen := false
	for _, row := range rows[1:] {
		code, evalOut, errText := runCmd(t, "eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", val,
			"--first", "0", "--count", "14", "--temperature", row[0], "--magnitude", row[1], "--quiet", "--json", "--workers", "1", "--batch", "5",
			"--fresh")
		if code != 0 {
			t.Fatalf("eval: exit %d: %s", code, errText)
		}
		var ev struct {
			ODIN map[string]float64 `json:"odin"`
		}
		if err := json.Unmarshal([]byte(evalOut), &ev); err != nil {
			t.Fatal(err)
		}
		for i, k := range []string{"fpr95", "det_err", "auroc", "aupr_in", "aupr_out"} {
			v, _ := strconv.ParseFloat(row[2+i], 64)
			if v != ev.ODIN[k] {
				t.Errorf("T=%s ε=%s %s: grid %v, eval %v", row[0], row[1], k, v, ev.ODIN[k])
			}
		}
		if row[0] == fmtF(best["temperature"].(float64)) && row[1] == fmtF(best["magnitude"].(float64)) {
			bestSeen = true
			if best["fpr95"].(float64) != ev.ODIN["fpr95"] || best["auroc"].(float64) != ev.ODIN["auroc"] {
				t.Errorf("best cell %v, eval %v", best, ev.ODIN)
			}
		}
	}
	if !bestSeen {
		t.Errorf("best cell %v is not in the grid", best)
	}

	// The same search through the library gives the same cell.
	m, err := models.Load(smallNetPath, "")
	if err != nil {
		t.Fatal(err)
	}
	folder, err := dataset.OpenFolder(val, dataset.FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tu, err := experiment.NewTuner(m, experiment.Grid{Temperatures: []float64{1, 1000}, Magnitudes: []float64{0, 0.001, 0.002}}, experiment.MinFPR95, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tu.Tune(context.Background(), experiment.Range{Data: dataset.Uniform(14, 0), Count: 14}, experiment.Range{Data: folder, Count: 14})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.BestCell(); c.Temperature != best["temperature"] || c.Magnitude != best["magnitude"] || c.Result.Percent().AUROC != best["auroc"] {
		t.Errorf("library: %+v, command: %v", c, best)
	}

	// A second run, scoring afresh, prints the same and writes the same files; so does a third
	// that reads the scores back from the cache.
	plot1, _ := os.ReadFile(plotPath)
	if _, err := png.Decode(bytes.NewReader(plot1)); err != nil {
		t.Errorf("heat map: %v", err)
	}
	for _, extra := range []string{"--fresh", "--json"} {
		code, out2, errText := runCmd(t, append(args, "--json", extra)...)
		grid2, _ := os.ReadFile(gridPath)
		plot2, _ := os.ReadFile(plotPath)
		if code != 0 || out2 != out || !bytes.Equal(grid1, grid2) || !bytes.Equal(plot1, plot2) {
			t.Errorf("run with %s differs: exit %d\n%s\nfirst\n%s", extra, code, out2, out)
		}
		if reused := strings.Contains(errText, "28 images' scores reused"); reused != (extra == "--json") {
			t.Errorf("run with %s: %q", extra, errText)
		}
	}

	// The table names the best cell and the odin eval command that uses it.
	code, table, _ := runCmd(t, args...)
	want := fmt.Sprintf("--temperature %s --magnitude %s", fmtF(best["temperature"].(float64)), fmtF(best["magnitude"].(float64)))
	if code != 0 || !strings.Contains(table, "odin eval --nn "+smallNetPath) || !strings.Contains(table, want) || !strings.Contains(table, "Tuned ODIN") {
		t.Errorf("table:\n%s", table)
	}
}

func TestTuneWithoutOODData(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	code, out, errText := runCmd(t, "tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", "none",
		"--count", "6", "--magnitudes", "0,0.001,0.002", "--quiet", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["temperature"] != 1000.0 || got["criterion"] != "in_score" || got["fpr95"] != nil || got["count_out"] != 0.0 {
		t.Errorf("output %v", got)
	}

	// By default the magnitudes are Generalized ODIN's, at T = 1000.
	grid := filepath.Join(t.TempDir(), "grid.csv")
	code, _, errText = runCmd(t, "tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", "none",
		"--count", "3", "--quiet", "--grid", grid)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	data, err := os.ReadFile(grid)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var eps []string
	for _, r := range rows[1:] {
		if r[0] != "1000" {
			t.Errorf("row %v: temperature is not 1000", r)
		}
		eps = append(eps, r[1])
	}
	if strings.Join(rows[0], ",") != "temperature,magnitude,in_score" || strings.Join(eps, ",") != godinMagnitudes {
		t.Errorf("grid file %v", rows)
	}
}

func TestTuneBadInput(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	base := []string{"tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", "Gaussian", "--count", "4", "--quiet"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--magnitudes", ""}, "empty grid: no magnitudes"},
		{[]string{"--temperatures", ""}, "empty grid: no temperatures"},
		{[]string{"--magnitudes", "0,-0.001"}, "magnitude -0.001: parameter out of range"},
		{[]string{"--magnitudes", "-0.004:0:3"}, "magnitude -0.004: parameter out of range"},
		{[]string{"--temperatures", "0,1"}, "temperature 0: parameter out of range"},
		{[]string{"--magnitudes", "0:0.004"}, "want lo:hi:n"},
		{[]string{"--magnitudes", "a"}, `"a" is not a number`},
		{[]string{"--val_dataset", "Uniform"}, "--val_dataset Uniform is the in-distribution set"},
		{[]string{"--val_dataset", "none", "--temperatures", "1,1000"}, "one fixed temperature"},
		{[]string{"--val_dataset", "none", "--criterion", "auroc"}, "needs OOD data"},
		{[]string{"--criterion", "in_score"}, "in_score is for --val_dataset none"},
		{[]string{"--criterion", "aupr"}, `unknown criterion "aupr"`},
		{[]string{"--count", "0"}, "--count must be positive"},
		{[]string{"--val_dataset", "Gaussian,,Uniform"}, "separated by commas"},
	} {
		code, _, errText := runCmd(t, append(base, c.args...)...)
		if code != 2 || !strings.Contains(errText, c.want) || strings.Count(errText, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit 2 and one line with %q", c.args, code, errText, c.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []float64
	}{
		{"1,2, 5", []float64{1, 2, 5}},
		{"0:0.004:5", []float64{0, 0.001, 0.002, 0.003, 0.004}},
		{"1000", []float64{1000}},
		{"0.5:0.5:1", []float64{0.5}},
		{"", nil},
	} {
		got, err := parseValues(c.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("parseValues(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// The default successive-halving search reports the chosen cell's metrics on every held-out
// image: the same as odin eval's for its parameters.
func TestTuneHalvingChosenCellExact(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	val := noiseFolder(t, 16)
	gridPath := filepath.Join(t.TempDir(), "grid.csv")
	code, out, errText := runCmd(t, "tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", val, "--count", "16",
		"--temperatures", "1,1000", "--magnitudes", "0:0.004:5", "--workers", "2", "--batch", "3", "--quiet", "--json", "--grid", gridPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	if !strings.Contains(errText, "successive halving") {
		t.Errorf("stderr does not name the search: %s", errText)
	}
	var best struct {
		Temperature, Magnitude, FPR95, AUROC float64
		Search                               string
	}
	if err := json.Unmarshal([]byte(out), &best); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	grid, _ := os.ReadFile(gridPath)
	if !strings.HasPrefix(string(grid), "temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out,images\n") {
		t.Fatalf("grid file:\n%s", grid)
	}
	code, evalOut, errText := runCmd(t, "eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", val,
		"--first", "0", "--count", "16", "--temperature", fmt.Sprint(best.Temperature), "--magnitude", fmt.Sprint(best.Magnitude),
		"--quiet", "--json", "--fresh")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errText)
	}
	var ev struct {
		ODIN map[string]float64 `json:"odin"`
	}
	if err := json.Unmarshal([]byte(evalOut), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ODIN["fpr95"] != best.FPR95 || ev.ODIN["auroc"] != best.AUROC {
		t.Errorf("chosen cell: tune FPR95 %v AUROC %v, eval %v %v", best.FPR95, best.AUROC, ev.ODIN["fpr95"], ev.ODIN["auroc"])
	}
	if best.Search == "" {
		t.Errorf("JSON lacks the search: %s", out)
	}
	if code, _, errText := runCmd(t, "tune", "--nn", smallNetPath, "--search", "random"); code != 2 || !strings.Contains(errText, "--search") {
		t.Errorf("--search random: exit %d, %s", code, errText)
	}
}
