package report

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

// synthetic returns methods scoring n in-distribution images from N(d_k, 1) and n OOD images
// from N(0, 1), with scores rounded to 1/8 so that there are ties.
func synthetic(seed uint64, n int, names ...string) []Method {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ms []Method
	for k, name := range names {
		m := Method{Name: name, In: make([]float64, n), Out: make([]float64, n)}
		for i := range n {
			m.In[i] = math.Round((1+0.6*float64(k)+rng.NormFloat64())*8) / 8
			m.Out[i] = math.Round(rng.NormFloat64()*8) / 8
		}
		ms = append(ms, m)
	}
	return ms
}

func testGrid() Grid {
	g := Grid{Title: "FPR95 (%), validation: Tiny-ImageNet (crop)", RowName: "temperature T", ColName: "magnitude ε",
		Rows: []float64{1, 10, 100, 1000}, Cols: []float64{0, 0.001, 0.002, 0.003, 0.004}, Best: [2]int{3, 2}}
	for r := range g.Rows {
		g.Values = append(g.Values, []float64{50 - float64(r), 45 - 2*float64(r), 40 - 4*float64(r), 41 - 3*float64(r), 44})
	}
	return g
}

func testInput() Input {
	return Input{
		Title: "test report", InName: "CIFAR-10", OutName: "Tiny-ImageNet (crop)",
		Methods: synthetic(1, 600, "baseline", "odin", "energy"),
		Command: "odin report in.csv out.csv --out DIR", Params: [][2]string{{"Network", "densenet10"}},
		Checkpoint: "sha256:0123456789abcdef", Bootstrap: metrics.BootstrapOptions{Resamples: 200, Workers: 2},
		Grids: []Grid{testGrid()},
	}
}

// TestWritePage checks the files of a report and that index.html is self-contained: no script,
// no "http" anywhere (so no external reference), every figure inline.
func TestWritePage(t *testing.T) {
	dir := t.TempDir()
	r, err := Write(context.Background(), dir, testInput())
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(page))
	if strings.Contains(lower, "<script") {
		t.Error("index.html holds a <script>")
	}
	if strings.Contains(lower, "http") {
		i := strings.Index(lower, "http")
		t.Errorf("index.html refers to http: …%s…", lower[max(0, i-60):min(len(lower), i+60)])
	}
	for _, attr := range []string{"src=", "href=", "url("} {
		if strings.Contains(lower, attr) {
			t.Errorf("index.html holds %s, a possible external reference", attr)
		}
	}
	want := []string{"headline", "compare", "roc", "pr-in", "pr-out", "hist-baseline", "hist-odin", "hist-energy", "heatmap"}
	if len(r.Figures) != len(want) {
		t.Errorf("%d figures, want %d (%v)", len(r.Figures), len(want), want)
	}
	for _, name := range want {
		if !regexp.MustCompile(`<figure id="fig-` + regexp.QuoteMeta(name) + `"><svg [^>]*viewBox`).Match(page) {
			t.Errorf("index.html has no inline SVG figure %s", name)
		}
		for _, ext := range []string{".svg", ".png"} {
			if st, err := os.Stat(filepath.Join(dir, "figures", name+ext)); err != nil || st.Size() < 1000 {
				t.Errorf("figures/%s%s: %v", name, ext, err)
			}
		}
	}
	for _, s := range []string{"odin report in.csv out.csv --out DIR", "sha256:0123456789abcdef", "FPR at 95% TPR reduced from", "densenet10"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	// The tables show the values with intervals, "12.1 [11.4, 12.9]".
	if !regexp.MustCompile(`<td class="num">\d+\.\d \[\d+\.\d, \d+\.\d\]</td>`).Match(page) {
		t.Error("index.html has no value with an interval")
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "![FPR at 95% TPR reduced from") || !strings.Contains(string(md), "| ODIN − MSP (baseline) |") {
		t.Errorf("report.md lacks the headline or the paired table:\n%s", md)
	}
	checkJSON(t, filepath.Join(dir, "report.json"), r)
}

func checkJSON(t *testing.T, path string, r *Report) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Checkpoint string `json:"checkpoint"`
		Methods    []struct {
			Name    string             `json:"name"`
			Metrics map[string]float64 `json:"metrics"`
			CI      map[string]struct {
				Value, Low, High float64
			} `json:"ci"`
			ROC struct{ X, Y []float64 } `json:"roc"`
		} `json:"methods"`
		Paired []struct{ Method, Against string } `json:"paired"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Checkpoint != r.Checkpoint || len(got.Methods) != len(r.Methods) {
		t.Fatalf("report.json: checkpoint %q, %d methods", got.Checkpoint, len(got.Methods))
	}
	var raw struct {
		Methods []struct {
			CI map[string]map[string]float64 `json:"ci"`
		} `json:"methods"`
	}
	json.Unmarshal(b, &raw)
	for i, m := range got.Methods {
		if m.Metrics["fpr95"] != 100*r.Methods[i].Point.FPR95 || m.Metrics["auroc"] != 100*r.Methods[i].Point.AUROC {
			t.Errorf("%s: metrics %v, want %+v", m.Name, m.Metrics, r.Methods[i].Point.Percent())
		}
		ci := raw.Methods[i].CI["auroc"]
		if ci["value"] != m.Metrics["auroc"] || !(ci["ci_low"] <= ci["value"] && ci["value"] <= ci["ci_high"]) {
			t.Errorf("%s: auroc interval %v", m.Name, ci)
		}
		if n := len(m.ROC.X); n < 10 || n != len(m.ROC.Y) || m.ROC.X[n-1] != 1 || m.ROC.Y[n-1] != 1 {
			t.Errorf("%s: ROC of %d points ending at (%v, %v)", m.Name, n, m.ROC.X[n-1], m.ROC.Y[n-1])
		}
	}
	// energy and odin against the baseline, energy against odin.
	if len(got.Paired) != 3 {
		t.Errorf("paired %+v, want 3 comparisons", got.Paired)
	}
}

// TestCurvesAgreeWithMetrics checks the curves against package metrics: the trapezoid area under
// the ROC curve is the AUROC, the step areas under the PR curves are the AUPRs, and FPR at the
// threshold at 95% TPR is the FPR95.
func TestCurvesAgreeWithMetrics(t *testing.T) {
	for _, m := range synthetic(2, 500, "a", "b") {
		c := ComputeCurves(m.In, m.Out)
		want, err := metrics.Compute(m.In, m.Out, metrics.Options{})
		if err != nil {
			t.Fatal(err)
		}
		auc := 0.0
		for i := 1; i < c.ROC.Len(); i++ {
			auc += (c.ROC.X[i] - c.ROC.X[i-1]) * (c.ROC.Y[i] + c.ROC.Y[i-1]) / 2
		}
		step := func(pr Curve) float64 {
			a, prev := 0.0, 0.0
			for i := range pr.X {
				a += (pr.X[i] - prev) * pr.Y[i]
				prev = pr.X[i]
			}
			return a
		}
		fp := 0
		for _, s := range m.Out {
			if s >= c.Threshold95 {
				fp++
			}
		}
		for _, d := range []struct {
			name      string
			got, want float64
		}{
			{"AUROC", auc, want.AUROC}, {"AUPR in", step(c.PRIn), want.AUPRIn}, {"AUPR out", step(c.PROut), want.AUPROut},
			{"FPR95", float64(fp) / float64(len(m.Out)), want.FPR95},
		} {
			if math.Abs(d.got-d.want) > 1e-12 {
				t.Errorf("%s %s: curves give %.15f, metrics %.15f", m.Name, d.name, d.got, d.want)
			}
		}
	}
}

func TestThin(t *testing.T) {
	var c Curve
	for i := range 10001 {
		x := float64(i) / 10000
		c.add(x, math.Sqrt(x))
	}
	th := c.Thin(0.001)
	if th.Len() > 2002 || th.Len() < 500 {
		t.Errorf("thinned to %d points, want at most 2/tol", th.Len())
	}
	if th.X[0] != 0 || th.X[th.Len()-1] != 1 || th.Y[th.Len()-1] != 1 {
		t.Error("thinning lost an end point")
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	in := testInput()
	in.Methods = append(in.Methods, in.Methods[0])
	if _, err := Build(ctx, in); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Errorf("repeated method: %v", err)
	}
	in = testInput()
	in.Methods[1].Out = in.Methods[1].Out[:10]
	if _, err := Build(ctx, in); err == nil || !strings.Contains(err.Error(), "same images") {
		t.Errorf("methods on different images: %v", err)
	}
	in = testInput()
	in.Grids[0].Best = [2]int{9, 9}
	if _, err := Build(ctx, in); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("best cell outside the grid: %v", err)
	}
	if _, err := Build(ctx, Input{}); err == nil {
		t.Error("no methods: no error")
	}
}

// TestNoHeadlineWithoutPair checks that a report of one method has no headline figure and no
// paired table, and still writes.
func TestNoHeadlineWithoutPair(t *testing.T) {
	in := testInput()
	in.Methods = in.Methods[2:]
	in.Grids = nil
	r, err := Write(context.Background(), t.TempDir(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Headline != [2]int{-1, -1} || len(r.Paired) != 0 || r.Figures[0].Name == "headline" {
		t.Errorf("headline %v, %d paired, first figure %s", r.Headline, len(r.Paired), r.Figures[0].Name)
	}
}

func TestReadGrid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grid.csv")
	data := "temperature,magnitude,fpr95,det_err,auroc,aupr_in,aupr_out\n" +
		"1,0,30,10,90,90,90\n1,0.001,20,9,95,95,95\n" +
		"1000,0,25,9,93,93,93\n1000,0.001,20,8,96,96,96\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGrid(path, "fpr95")
	if err != nil {
		t.Fatal(err)
	}
	// Two cells tie on FPR95 (20); the better AUROC (96, T = 1000) wins, as in odin tune.
	if g.Best != [2]int{1, 1} || g.HigherIsBetter || len(g.Rows) != 2 || len(g.Cols) != 2 || g.Values[1][0] != 25 {
		t.Errorf("grid %+v", g)
	}
	if g, err = ReadGrid(path, "auroc"); err != nil || g.Best != [2]int{1, 1} || !g.HigherIsBetter {
		t.Errorf("auroc grid %+v, %v", g, err)
	}
	if _, err := HeatMap(g); err != nil {
		t.Error(err)
	}
	if _, err := ReadGrid(path, "nope"); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("unknown metric: %v", err)
	}
}

// TestInfiniteScores checks that infinite scores (which metrics accepts) are drawn, in the end
// bins of the histograms, rather than breaking the figures.
func TestInfiniteScores(t *testing.T) {
	in := testInput()
	in.Grids = nil
	m := &in.Methods[2]
	m.In[0], m.In[1], m.Out[0] = math.Inf(1), math.Inf(-1), math.Inf(-1)
	if _, err := Write(context.Background(), t.TempDir(), in); err != nil {
		t.Fatal(err)
	}
	all := Method{Name: "inf", In: []float64{math.Inf(1), math.Inf(1)}, Out: []float64{math.Inf(-1), 0}}
	in.Methods = []Method{all}
	if _, err := Write(context.Background(), t.TempDir(), in); err != nil {
		t.Fatal(err)
	}
}

// TestReadScoreFilesCacheFolders reads scores kept in two cache folders, each with the run.json
// of its own set, and names the sets as a run does.
func TestReadScoreFilesCacheFolders(t *testing.T) {
	root := t.TempDir()
	write := func(dir, csv, run string) string {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, dir, "run.json"), []byte(run), 0o644)
		p := filepath.Join(root, dir, dir+".csv")
		os.WriteFile(p, []byte(csv), 0o644)
		return p
	}
	in := write("in", "index,baseline,odin\n0,0.9,0.8\n1,0.7,0.6\n", `{"checkpoint": "sha256:ab", "set": "cifar10", "first": "1000"}`)
	out := write("out", "index,baseline,odin\n0,0.5,0.1\n", `{"checkpoint": "sha256:ab", "set": "Imagenet", "first": "1000"}`)
	sf, err := ReadScoreFiles(in, out, []string{"odin"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := SetNames(sf.Run)
	if a != "cifar10" || b != "Imagenet" || sf.Run["checkpoint"] != "sha256:ab" || len(sf.Methods) != 1 || sf.Methods[0].Out[0] != 0.1 {
		t.Errorf("run %v, methods %+v", sf.Run, sf.Methods)
	}
	if _, err := ReadScoreFiles(in, out, []string{"odin", "odin"}); err == nil {
		t.Error("a column named twice: no error")
	}
}

func TestHeadlineNamesUnknownMethod(t *testing.T) {
	in := testInput()
	in.Detector = "vim"
	if _, err := Build(context.Background(), in); err == nil || !strings.Contains(err.Error(), `"vim"`) {
		t.Errorf("unknown detector: %v", err)
	}
	in.Detector, in.Baseline = "energy", "odin"
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Headline != [2]int{1, 2} || !strings.Contains(r.Figures[0].Caption, "energy against ODIN") {
		t.Errorf("headline %v, caption %q", r.Headline, r.Figures[0].Caption)
	}
}

func TestFigureNamesUnique(t *testing.T) {
	in := testInput()
	in.Methods = synthetic(6, 100, "a/b", "a_b")
	in.Grids = append(in.Grids, testGrid())
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range r.Figures {
		if seen[f.Name] {
			t.Errorf("figure name %s twice", f.Name)
		}
		seen[f.Name] = true
	}
}
