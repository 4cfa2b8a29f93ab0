package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

func runFit(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"fit"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestFitBadMethods(t *testing.T) {
	for _, c := range []struct{ method, want string }{
		{"knn,mahalanobs", `unknown method "mahalanobs" (valid: ` + strings.Join(ood.Names(), ", ") + ")"},
		{"msp", "msp needs no fitting (methods that fit: knn, mahalanobis, mahalanobis_pre, react, vim)"},
		{"knn,knn", "method knn given twice"},
	} {
		code, _, errOut := runFit("--method", c.method)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("--method %s: exit %d, %q; want 2 and %q", c.method, code, errOut, c.want)
		}
	}
}

// sharedData is the shared data folder, or skips the test where it is missing (fails in CI).
func sharedData(t *testing.T) string {
	return filepath.Dir(filepath.Dir(datadir.ForTest(t, "models/densenet10.pth")))
}

// TestFitAndEvalDetectors fits statistics on a few training images, adds a method to the file,
// and has odin eval's resolution of --method read them back or refuse them.
func TestFitAndEvalDetectors(t *testing.T) {
	data := sharedData(t)
	datadir.ForTest(t, "cifar-10-batches-bin/data_batch_1.bin")
	stats := filepath.Join(t.TempDir(), "d10.stats")
	code, out, errOut := runFit("--nn", "densenet10", "--data", data, "--count", "40", "--method", "knn,react", "--stats", stats, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := stats + ": statistics of knn, react for densenet10 (DenseNet-BC-100 (k=12), 342 features, 10 classes) from 40 images of CIFAR-10 data_batch_1.bin\n"
	if out != want {
		t.Errorf("stdout %q\nwant   %q", out, want)
	}
	code, out, errOut = runFit("--nn", "densenet10", "--data", data, "--count", "40", "--method", "mahalanobis", "--stats", stats, "--quiet")
	if code != 0 || !strings.Contains(out, "statistics of knn, mahalanobis, react for densenet10") {
		t.Fatalf("adding mahalanobis: exit %d, %q, %s", code, out, errOut)
	}
	s, err := ood.ReadStats(stats)
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != 40 || s.NN != "densenet10" || !s.Has("knn.bank") || !s.Has("mahalanobis.precision") {
		t.Errorf("statistics %+v, arrays %v", s, s.Names())
	}

	m, err := models.Load(filepath.Join(data, "models", "densenet10.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	net := &experiment.Network{Model: m, NN: "densenet10"}
	dets, id, err := evalDetectors("msp,odin,knn,react,mahalanobis_pre", stats, "", "densenet10", net, 500, 0.002)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 5 || !strings.HasPrefix(id, "crc32:") {
		t.Errorf("%d detectors, stats id %q", len(dets), id)
	}
	if o := dets[1].(*ood.ODIN); o.Temperature != 500 || o.Magnitude != 0.002 {
		t.Errorf("odin %+v, want --temperature and --magnitude applied", o)
	}
	dets, id, err = evalDetectors("", "", "", "densenet10", net, 1000, 0.0014)
	if err != nil || len(dets) != 2 || dets[0].Name() != "msp" || dets[1].Name() != "odin" || id != "" {
		t.Errorf("default methods: %v, %q, %v", dets, id, err)
	}

	_, _, err = evalDetectors("vim", stats, "", "densenet10", net, 1000, 0.0014)
	if err == nil || !strings.Contains(err.Error(), "hold no vim statistics (they have: knn, mahalanobis, react): add them with `odin fit --nn densenet10 --method vim --stats "+stats+"`") {
		t.Errorf("missing vim: %v", err)
	}
	cache := t.TempDir()
	_, _, err = evalDetectors("msp,knn,vim", "", cache, "densenet10", net, 1000, 0.0014)
	wantErr := "knn, vim needs statistics of training images and " + filepath.Join(cache, "stats", "densenet10.stats") +
		" does not exist: make it with `odin fit --nn densenet10 --method knn,vim`"
	if err == nil || err.Error() != wantErr {
		t.Errorf("missing file: %v\nwant %s", err, wantErr)
	}
	m100, err := models.Load(datadir.ForTest(t, "models/densenet100.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = evalDetectors("knn", stats, "", "densenet100", &experiment.Network{Model: m100, NN: "densenet100"}, 1000, 0.0014)
	if err == nil || !strings.Contains(err.Error(), "were fitted on densenet10 (DenseNet-BC-100 (k=12), 342 features, 10 classes); this network DenseNet-BC-100 (k=12) has 342 features and 100 classes") {
		t.Errorf("statistics of another network: %v", err)
	}
	_, _, err = evalDetectors("knn,odn", stats, "", "densenet10", net, 1000, 0.0014)
	if err == nil || !strings.Contains(err.Error(), `unknown method "odn" (valid: `+strings.Join(ood.Names(), ", ")) {
		t.Errorf("unknown method: %v", err)
	}
}

func TestWriteMethodTable(t *testing.T) {
	var b bytes.Buffer
	header := [][2]string{{"Neural network architecture", "DenseNet-BC-100 (k=12)"}, {"In-distribution dataset", "CIFAR-10"}}
	results := []metrics.Result{
		{FPR95: 0.347, DetErr: 0.099, AUROC: 0.953, AUPRIn: 0.964, AUPROut: 0.938},
		{FPR95: 0.04321, DetErr: 0.047, AUROC: 0.991, AUPRIn: 0.9915, AUPROut: 0.99},
	}
	if err := experiment.WriteMethodTable(&b, header, []string{"msp", "mahalanobis_pre"}, results); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Neural network architecture:                                   DenseNet-BC-100 (k=12)\n" +
		"In-distribution dataset:                                                     CIFAR-10\n" +
		"\n" +
		"Method                     FPR at TPR 95%  Detection error   AUROC  AUPR In  AUPR Out\n" +
		"Baseline (MSP)                      34.7%             9.9%   95.3%    96.4%     93.8%\n" +
		"Mahalanobis (pre-proc.)              4.3%             4.7%   99.1%    99.2%     99.0%\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := experiment.WriteMethodTable(&b, nil, []string{"msp"}, nil); err == nil {
		t.Error("a table of 1 method and 0 results written")
	}
}

// Statistics fitted with a preprocessing and the default feature tap are refused, with one line
// and the odin fit command, by odin eval on another tap and by odin score with the network's own
// preprocessing, and used by odin score with the same flags.
func TestStatsOfOtherFeaturesOrPreprocessing(t *testing.T) {
	root := t.TempDir()
	in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
	writeFolder(t, in, 2, 3, 1)
	writeFolder(t, out, 2, 2, 2)
	stats := filepath.Join(t.TempDir(), "tiny.stats")
	prep := []string{"--nn", tinyONNX, "--crop", "16", "--interpolation", "bicubic"}
	code, stdout, stderr := runCmd(t, append([]string{"fit", "--train", "folder:" + in, "--method", "react", "--stats", stats, "--quiet"}, prep...)...)
	if code != 0 || !strings.Contains(stdout, `, preprocessing {"mean":`) {
		t.Fatalf("fit: exit %d: %s %s", code, stdout, stderr)
	}
	scores := filepath.Join(t.TempDir(), "scores.csv")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"eval on another tap", append([]string{"eval", "--in_dataset", "folder:" + in, "--out_dataset", "folder:" + out, "--first", "0",
			"--method", "msp,react", "--stats", stats, "--quiet", "--fresh", "--features", "/GlobalAveragePool_output_0"}, prep...),
			1, "statistics fitted on other features: stats " + stats + " were fitted on the default features"},
		{"score with the network's own preprocessing", []string{"score", "--nn", tinyONNX, "--method", "msp,react", "--stats", stats,
			"--out", scores, "--quiet", in}, 1, "statistics fitted with another preprocessing: stats " + stats + " were fitted with preprocessing {"},
		{"score with the same preprocessing", append([]string{"score", "--method", "msp,react", "--stats", stats, "--out", scores, "--quiet", in}, prep...), 0, ""},
	} {
		code, _, stderr := runCmd(t, c.args...)
		if c.code == 0 {
			if code != 0 {
				t.Errorf("%s: exit %d: %s", c.name, code, stderr)
			}
			continue
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != c.code || !strings.Contains(last, c.want) || !strings.Contains(last, "`odin fit --nn "+tinyONNX+" --method react --stats "+stats+"` and the same flags") {
			t.Errorf("%s: exit %d, stderr %q; want %d and one line with %q and the odin fit command", c.name, code, stderr, c.code, c.want)
		}
	}
}
