package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

func TestCalibrateWritesThreshold(t *testing.T) {
	t.Setenv("ODIN_CACHE", t.TempDir())
	dir := t.TempDir()
	tuned := filepath.Join(dir, "tuned.json")
	code, out, errText := runCmd(t, "tune", "--nn", smallNetPath, "--in_dataset", "Uniform", "--val_dataset", "Gaussian",
		"--count", "6", "--temperatures", "10,1000", "--magnitudes", "0.001,0.002", "--quiet", "--json")
	if code != 0 {
		t.Fatalf("tune: exit %d: %s", code, errText)
	}
	if err := os.WriteFile(tuned, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	_, T, eps, err := readTuneJSON(tuned)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, "threshold.json")
	code, out, errText = runCmd(t, "calibrate", "--nn", smallNetPath, "--in_dataset", "Uniform", "--first", "3", "--count", "40",
		"--tpr", "0.9", "--from-tune", tuned, "--out", path, "--quiet")
	if code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, errText)
	}
	if !strings.Contains(out, "accepts 36 of 40") {
		t.Errorf("summary %q", out)
	}
	th, err := decision.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	// The file holds the network's identity and the threshold computed from ODIN's scores.
	m, err := models.Load(smallNetPath, "")
	if err != nil {
		t.Fatal(err)
	}
	scores, err := experiment.NewScorer(m, []ood.Detector{&ood.ODIN{Temperature: T, Magnitude: eps}}, 1, 8).
		Score(context.Background(), dataset.Uniform(43, 0), 3, 40, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	delta, accepted, _ := decision.Calibrate(scores[0], 0.9)
	digest, _ := decision.Digest(smallNetPath)
	want := decision.Threshold{Method: "odin", Temperature: T, Magnitude: eps, Delta: delta, TPR: 0.9, Accepted: accepted,
		NN: smallNetPath, Network: m.Name, Checkpoint: digest, InDataset: "Uniform", First: 3, Count: 40}
	if *th != want {
		t.Errorf("threshold file\n%+v\nwant\n%+v", *th, want)
	}
	n := 0
	for _, s := range scores[0] {
		if th.Decide(s) {
			n++
		}
	}
	if n != 36 {
		t.Errorf("Decide accepts %d of the 40 calibration images, want 36", n)
	}

	// odin eval --threshold takes T and ε from the file and applies its rule: on the calibration
	// images themselves it accepts the 90% it was calibrated to.
	code, out, errText = runCmd(t, "eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", "Gaussian",
		"--first", "3", "--count", "40", "--threshold", path, "--quiet")
	if code != 0 {
		t.Fatalf("eval --threshold: exit %d: %s", code, errText)
	}
	if !strings.Contains(out, "accepts 90.00% of the in-distribution images") || !strings.Contains(out, fmt.Sprintf("T = %g, ε = %g", T, eps)) {
		t.Errorf("eval --threshold output:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--magnitude", "0.5"}, "leave out --temperature and --magnitude"},
		{[]string{"--method", "msp,energy"}, "--method must include odin"},
		{[]string{"--nn", filepath.Join("..", "..", "models", "testdata", "resnet8.pt")}, "threshold calibrated on another network: calibrated on checkpoint"},
	} {
		args := append([]string{"eval", "--nn", smallNetPath, "--in_dataset", "Uniform", "--out_dataset", "Gaussian",
			"--count", "4", "--threshold", path, "--quiet"}, tc.args...)
		code, _, errText := runCmd(t, args...)
		if code == 0 || !strings.Contains(errText, tc.want) || strings.Count(strings.TrimSpace(errText), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want one line containing %q", tc.args, code, errText, tc.want)
		}
	}
}

func TestCalibrateBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "t.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"nn":"x"}`), 0o644)
	base := []string{"calibrate", "--nn", smallNetPath, "--in_dataset", "Uniform", "--count", "4", "--quiet"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "--out FILE is required"},
		{[]string{"--out", out, "--tpr", "0"}, 2, "--tpr must be in (0, 1]"},
		{[]string{"--out", out, "--magnitude", "-0.001"}, 2, "--magnitude -0.001: parameter out of range: want a number from 0 to 1"},
		{[]string{"--out", out, "--from-tune", bad, "--temperature", "10"}, 2, "drop --temperature"},
		{[]string{"--out", out, "--from-tune", bad}, 1, "no temperature and magnitude"},
		{[]string{"--out", out, "--in_dataset", "cifar10", "--data", dir}, 1, "cifar10: missing"},
	} {
		code, _, errText := runCmd(t, append(base, c.args...)...)
		if code != c.code || !strings.Contains(errText, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, errText, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed calibration wrote its file")
	}
}
