package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/scorefile"
)

// TestEvalIntegration runs the seed's experiment on 500 + 500 real images: CIFAR-10 test images
// 1000–1499 against Tiny-ImageNet (resize) rebuilt in the seed construction, with the seed's
// densenet10, and checks the metrics and some per-image scores against values computed once by
// this engine and committed here.
//
// Tolerances: the engine is deterministic (bit-identical for any worker count and batch size on
// one kernel), so on the AVX2 kernel these values reproduce exactly. The tolerances absorb a
// change of summation order (another kernel, blocking, or a plan rewrite such as pooling before
// a transition's product): that moved the logits of these images by up to about 1e-5, and a
// max-softmax score moves by at most half the largest logit change (the gradient of max softmax
// p with respect to the logits has an L1 norm of 2p(1-p) <= 1/2), so scores get 1e-5 absolute;
// ODIN's scores, at T = 1000, move a thousand times less and get 1e-7. A swap of two nearly tied
// images moves a metric by 1/500 = 0.2 points, so metrics get 0.3 points.
func TestEvalIntegration(t *testing.T) {
	data := filepath.Dir(filepath.Dir(datadir.ForTest(t, "models/densenet10.pth")))
	datadir.ForTest(t, "tiny-imagenet-200/test/images")
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"eval", "--nn", "densenet10", "--out_dataset", "Imagenet_resize", "--magnitude", "0.0014",
		"--temperature", "1000", "--first", "1000", "--count", "500", "--data", data, "--cache", filepath.Join(dir, "cache"),
		"--scores", filepath.Join(dir, "scores"), "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), "building Imagenet_resize"); n != 1 {
		t.Errorf("stderr announces the build %d times, want once", n)
	}
	var got struct {
		CountIn  int                `json:"count_in"`
		CountOut int                `json:"count_out"`
		Baseline map[string]float64 `json:"baseline"`
		ODIN     map[string]float64 `json:"odin"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}
	if got.CountIn != 500 || got.CountOut != 500 {
		t.Errorf("counts %d + %d, want 500 + 500", got.CountIn, got.CountOut)
	}
	want := map[string]map[string]float64{
		"baseline": {"fpr95": 42.6, "det_err": 12.9, "auroc": 93.258, "aupr_in": 94.7065090190973, "aupr_out": 91.81487987505564},
		"odin":     {"fpr95": 10.6, "det_err": 7.4, "auroc": 98.124, "aupr_in": 98.23038260636656, "aupr_out": 98.12586675846448},
	}
	for method, m := range map[string]map[string]float64{"baseline": got.Baseline, "odin": got.ODIN} {
		for k, w := range want[method] {
			if math.Abs(m[k]-w) > 0.3 {
				t.Errorf("%s %s = %v, want %v", method, k, m[k], w)
			}
		}
	}
	scores := map[string][][3]float64{ // index, baseline, odin
		"in.csv":  {{1000, 0.9999951581413811, 0.10214714859459223}, {1001, 0.7069089015657162, 0.10159044883600608}},
		"out.csv": {{1000, 0.6833860745069384, 0.10098297971540483}, {1002, 0.9989018903324054, 0.10141881619990832}},
	}
	for file, rows := range scores {
		f, err := scorefile.Read(filepath.Join(dir, "scores", file))
		if err != nil {
			t.Fatal(err)
		}
		if f.Len() != 500 || strings.Join(f.Columns, ",") != "baseline,odin" {
			t.Fatalf("%s: %d rows, columns %v", file, f.Len(), f.Columns)
		}
		for _, r := range rows {
			i := int(r[0]) - 1000
			if f.Index[i] != int(r[0]) {
				t.Fatalf("%s row %d is image %d", file, i, f.Index[i])
			}
			for c, tol := range []float64{1e-5, 1e-7} {
				if v := f.Values[c][i]; math.Abs(v-r[c+1]) > tol {
					t.Errorf("%s image %d %s = %v, want %v", file, int(r[0]), f.Columns[c], v, r[c+1])
				}
			}
		}
	}
}

func TestEvalBadInput(t *testing.T) {
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "models"), 0o755)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--nn", "vgg"}, "not one of densenet10, densenet100, wideresnet10, wideresnet100, resnet20, resnet56"},
		{[]string{"--nn", "densenet10"}, "densenet10.pth not found (looked in " + filepath.Join(data, "models")},
		{[]string{"--magnitude", "-1"}, "--magnitude -1: parameter out of range"},
		{[]string{"--temperature", "0"}, "--temperature 0: parameter out of range"},
		{[]string{"--count", "0"}, "--count must be positive"},
		{[]string{"--frobnicate"}, "flag provided but not defined: -frobnicate"},
		// The hostile values: refused before anything is loaded.
		{[]string{"--magnitude", "NaN"}, "--magnitude NaN: parameter out of range"},
		{[]string{"--magnitude", "Inf"}, "--magnitude +Inf: parameter out of range"},
		{[]string{"--magnitude", "1e300"}, "--magnitude 1e+300: parameter out of range"},
		{[]string{"--temperature", "Inf"}, "--temperature +Inf: parameter out of range"},
		{[]string{"--temperature", "1e-300"}, "--temperature 1e-300: parameter out of range"},
		{[]string{"--temperature", "NaN"}, "--temperature NaN: parameter out of range"},
		{[]string{"--batch", "5000"}, "--batch 5000: must be from 1 to 1024"},
		{[]string{"--workers", "10000"}, "--workers 10000: must be from 1 to 256"},
		{[]string{"--out_dataset", "Imagenet", "Imagenet"}, `unexpected argument "Imagenet": odin eval takes only flags`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"eval", "--data", data}, c.args...), &stdout, &stderr)
		msg := stderr.String()
		if code == 0 || !strings.Contains(msg, c.want) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want one line containing %q", c.args, code, msg, c.want)
		}
	}
}

func TestEvalUnknownSet(t *testing.T) {
	data := filepath.Dir(filepath.Dir(datadir.ForTest(t, "models/densenet10.pth")))
	var stdout, stderr bytes.Buffer
	code := run([]string{"eval", "--data", data, "--out_dataset", "Nowhere", "--quiet"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "Imagenet, Imagenet_resize, LSUN, LSUN_resize, iSUN, Uniform, Gaussian") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	code = run([]string{"eval", "--data", data, "--out_dataset", "LSUN", "--quiet"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "LSUN") {
		t.Errorf("missing LSUN: exit %d, stderr %q", code, stderr.String())
	}
	t.Logf("missing LSUN says: %s", stderr.String())
}

// TestEvalCacheFollowsCheckpointContents checks that kept scores are found again for a copy of
// the checkpoint (another path and time) and not for a checkpoint with other contents.
func TestEvalCacheFollowsCheckpointContents(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	data, err := os.ReadFile(smallNetPath)
	if err != nil {
		t.Fatal(err)
	}
	entries := func() int {
		e, _ := os.ReadDir(filepath.Join(cache, "scores"))
		return len(e)
	}
	for i, want := range []int{2, 2, 4} {
		path := filepath.Join(dir, fmt.Sprintf("net%d.pth", i))
		contents := data
		if i == 2 {
			// The same network with the last weight changed: another checkpoint.
			contents = append([]byte(nil), data...)
			contents[len(contents)-100] ^= 1
		}
		if err := os.WriteFile(path, contents, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errText := runCmd(t, "eval", "--nn", path, "--in_dataset", "Uniform", "--out_dataset", "Gaussian",
			"--count", "4", "--cache", cache, "--quiet")
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errText)
		}
		if got := entries(); got != want {
			t.Errorf("after run %d the cache holds %d score folders, want %d", i, got, want)
		}
	}
}

// A --scores folder of another run is refused; the library says why, the command what to do.
func TestEvalScoresOfAnotherRun(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	scores := t.TempDir()
	args := []string{"eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", "Gaussian",
		"--count", "4", "--scores", scores, "--quiet"}
	if code, _, errText := runCmd(t, append(args, "--magnitude", "0.001")...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errText)
	}
	code, _, errText := runCmd(t, append(args, "--magnitude", "0.002")...)
	want := `were made with magnitude="0.001", this run has "0.002": use another --scores folder or remove it`
	if code != 1 || !strings.Contains(errText, want) || strings.Count(strings.TrimSpace(errText), "\n") != 0 {
		t.Errorf("second run: exit %d, stderr %q; want one line containing %q", code, errText, want)
	}
}
