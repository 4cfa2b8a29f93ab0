package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

// metricsFiles writes two small score files and returns their paths.
func metricsFiles(t *testing.T) (in, out string) {
	t.Helper()
	dir := t.TempDir()
	in = filepath.Join(dir, "in.csv")
	out = filepath.Join(dir, "out.csv")
	if err := os.WriteFile(in, []byte("index,baseline,odin\n0,0.9,0.9\n1,0.8,0.7\n2,0.7,0.5\n3,0.6,0.5\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("index,baseline,odin\n0,0.75,0.7\n1,0.5,0.3\n2,0.85,0.1\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	return in, out
}

func runMetricsCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"metrics"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestMetricsJSONMatchesCompute(t *testing.T) {
	in, out := metricsFiles(t)
	for _, c := range []struct {
		args []string
		in   []float64
		out  []float64
		opt  metrics.Options
	}{
		{nil, []float64{0.9, 0.7, 0.5, 0.5}, []float64{0.7, 0.3, 0.1}, metrics.Options{}},
		{[]string{"--column", "baseline", "--positive", "out"}, []float64{0.9, 0.8, 0.7, 0.6}, []float64{0.75, 0.5, 0.85}, metrics.Options{Positive: metrics.Out}},
		{[]string{"--reference-compat", "--ref-grid", "0,1"}, []float64{0.9, 0.7, 0.5, 0.5}, []float64{0.7, 0.3, 0.1},
			metrics.Options{ReferenceCompat: true, Grid: metrics.Grid{Start: 0, End: 1, InclusiveAUROC: true}}},
	} {
		code, stdout, stderr := runMetricsCmd(append([]string{in, out, "--json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		var got map[string]*float64
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v: output %q: %v", c.args, stdout, err)
		}
		r, err := metrics.Compute(c.in, c.out, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		p := r.Percent()
		want := map[string]float64{"fpr95": p.FPR95, "det_err": p.DetErr, "auroc": p.AUROC, "aupr_in": p.AUPRIn, "aupr_out": p.AUPROut}
		if len(got) != len(want) {
			t.Errorf("%v: keys of %s, want %v", c.args, stdout, want)
		}
		for k, v := range want {
			g := got[k]
			if math.IsNaN(v) && g == nil {
				continue
			}
			if g == nil || *g != v {
				t.Errorf("%v: %s = %v, want %v", c.args, k, g, v)
			}
		}
	}
}

func TestMetricsTable(t *testing.T) {
	in, out := metricsFiles(t)
	code, stdout, stderr := runMetricsCmd(in, out)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The hand-worked case of the metrics tests: 1/3, 1/6, 9.5/12, 49/60, 5/6.
	lines := strings.Split(stdout, "\n")
	wantEnds := []string{
		"in.csv (4 scores)", "out.csv (3 scores)", "in-distribution", "exact", "",
		"odin", "33.3%", "16.7%", "79.2%", "81.7%", "83.3%", "",
	}
	if len(lines) != len(wantEnds) {
		t.Fatalf("output:\n%s", stdout)
	}
	width := len(lines[0])
	for i, w := range wantEnds {
		if !strings.HasSuffix(lines[i], w) || (w != "" && len(lines[i]) != width) {
			t.Errorf("line %d %q: want it to end in %q, %d wide", i+1, lines[i], w, width)
		}
	}
	for i, label := range []string{"In-distribution:", "Out-of-distribution:", "Positive class:", "Thresholds:"} {
		if !strings.HasPrefix(lines[i], label) {
			t.Errorf("line %d %q: want label %q", i+1, lines[i], label)
		}
	}
	for i, label := range []string{"FPR at TPR 95%:", "Detection error:", "AUROC:", "AUPR In:", "AUPR Out:"} {
		if !strings.HasPrefix(lines[6+i], label) {
			t.Errorf("line %d %q: want label %q", 7+i, lines[6+i], label)
		}
	}
}

func TestMetricsReferenceNote(t *testing.T) {
	in, out := metricsFiles(t)
	code, stdout, stderr := runMetricsCmd(in, out, "--reference-compat")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Four in-distribution scores never give a TPR within [0.9495, 0.9505], and the default grid
	// [0.1, 0.12] is far from these scores.
	wantErr := "odin metrics: note: reference grid odin-cifar10 (set --ref-grid for CIFAR-100 or other scores)\n" +
		"odin metrics: note: no grid threshold has a TPR within [0.9495, 0.9505], so FPR at TPR 95% is undefined\n"
	if stderr != wantErr {
		t.Errorf("stderr %q, want %q", stderr, wantErr)
	}
	if !strings.Contains(stdout, "reference grid [0.1, 0.12]") || !strings.Contains(stdout, "n/a") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

func TestMetricsErrors(t *testing.T) {
	in, out := metricsFiles(t)
	dir := filepath.Dir(in)
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("index,baseline,odin\n0,0.1,0.2\n1,0.3,abc\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	nan := filepath.Join(dir, "nan.csv")
	if err := os.WriteFile(nan, []byte("index,baseline,odin\n4,0.1,0.2\n7,0.3,NaN\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, []byte("index,odin\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.csv")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{missing, out}, 1, "scores " + missing + ": no such file or directory"},
		{[]string{in, bad}, 1, "scores " + bad + `:3: malformed value "abc" in column odin`},
		{[]string{in, out, "--column", "energy"}, 1, "scores " + in + `: no column "energy" (have baseline, odin)`},
		{[]string{nan, out}, 1, "scores " + nan + ":3: NaN in column odin (index 7)"},
		{[]string{in, empty}, 1, "scores " + empty + ": no rows"},
		{[]string{in}, 2, "want two score files IN.csv OUT.csv, got 1 arguments (see odin metrics --help)"},
		{[]string{in, out, "--positive", "ood"}, 2, `--positive "ood": want in or out`},
		{[]string{in, out, "--ref-grid", "0,1"}, 2, "--ref-grid needs --reference-compat"},
		{[]string{in, out, "--reference-compat", "--positive", "out"}, 2, "--reference-compat is defined only with --positive in"},
		{[]string{in, out, "--reference-compat", "--ref-grid", "odin-cifar1000"}, 2, `--ref-grid "odin-cifar1000": want baseline-cifar10, baseline-cifar100, odin-cifar10, odin-cifar100 or START,END with START < END`},
		{[]string{in, out, "--reference-compat", "--ref-grid", "1,0"}, 2, `--ref-grid "1,0": want`},
	} {
		code, stdout, stderr := runMetricsCmd(c.args...)
		if code != c.code || stdout != "" || !strings.HasPrefix(stderr, "odin metrics: "+c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and one line %q", c.args, code, stdout, stderr, c.code, c.want)
		}
	}
}

func TestParseGrid(t *testing.T) {
	for s, want := range map[string]metrics.Grid{
		"baseline-cifar10":  {Start: 0.1, End: 1},
		"baseline-cifar100": {Start: 0.01, End: 1},
		"odin-cifar10":      {Start: 0.1, End: 0.12, InclusiveAUROC: true},
		"odin-cifar100":     {Start: 0.01, End: 0.0104, InclusiveAUROC: true},
		"0.5, 0.75":         {Start: 0.5, End: 0.75, InclusiveAUROC: true},
	} {
		got, err := parseGrid(s)
		if err != nil || got != want {
			t.Errorf("parseGrid(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
}
