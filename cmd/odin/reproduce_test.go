package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReproduceTuned runs two rows of Table 2 with one (T, ε) taken from a tune result, as under
// the paper's protocol (b), and checks that each row holds what odin eval reports for the same
// T, ε and images, and that a row without data is reported, not dropped.
func TestReproduceTuned(t *testing.T) {
	data := sharedData(t)
	dir := t.TempDir()
	tuned := filepath.Join(dir, "tuned.json")
	if err := os.WriteFile(tuned, []byte(`{"temperature": 2, "magnitude": 0.001, "criterion": "fpr95", "fpr95": 1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	code, out, errText := runCmd(t, "reproduce", "--nn", "densenet10", "--out_dataset", "Uniform,Gaussian,LSUN",
		"--count", "20", "--data", data, "--cache", cache, "--tuned", tuned, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	if !strings.Contains(out, "ours with T = 2 and ε = 0.001 on every row") {
		t.Errorf("header does not name the tuned T and ε:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 3 && strings.TrimSpace(cells[1]) == "densenet10" {
			rows[strings.TrimSpace(cells[2])] = cells
		}
	}
	if len(rows) != 3 {
		t.Fatalf("want rows for Uniform, Gaussian and LSUN (crop):\n%s", out)
	}
	for name, cells := range rows {
		if strings.HasPrefix(name, "LSUN") {
			if !strings.Contains(strings.Join(cells, "|"), "missing") {
				t.Errorf("LSUN row without its data is not marked missing: %v", cells)
			}
			continue
		}
		set := strings.Fields(name)[0]
		code, js, errText := runCmd(t, "eval", "--nn", "densenet10", "--out_dataset", set, "--temperature", "2",
			"--magnitude", "0.001", "--count", "20", "--data", data, "--cache", cache, "--json")
		if code != 0 {
			t.Fatalf("eval %s: exit %d: %s", set, code, errText)
		}
		var ev struct {
			Baseline, ODIN map[string]float64
		}
		if err := json.Unmarshal([]byte(js), &ev); err != nil {
			t.Fatal(err)
		}
		// Cells 5… alternate baseline and ODIN over the five metrics, each "paper / ours".
		for i, key := range []string{"fpr95", "det_err", "auroc", "aupr_in", "aupr_out"} {
			for j, want := range []float64{ev.Baseline[key], ev.ODIN[key]} {
				cell := cells[5+2*i+j]
				parts := strings.Split(cell, "/")
				if got := strings.TrimSpace(parts[len(parts)-1]); got != fmt.Sprintf("%.1f", want) {
					t.Errorf("%s %s (column %d) = %s, eval says %.1f", set, key, 5+2*i+j, got, want)
				}
			}
		}
		if got := strings.TrimSpace(cells[15]); got != "20 + 20" {
			t.Errorf("%s: images %q", set, got)
		}
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"fpr95": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tuned", tuned, "--magnitude", "0.002"}, "without --temperature and --magnitude"},
		{[]string{"--tuned", bad}, "bad.json: no temperature and magnitude"},
		{[]string{"--tuned", filepath.Join(dir, "none.json")}, "none.json"},
		{[]string{"--magnitude", "-1"}, "--magnitude -1"},
		{[]string{"--temperature", "0"}, "--temperature 0"},
	} {
		args := append([]string{"reproduce", "--nn", "densenet10", "--out_dataset", "Uniform", "--count", "5", "--data", data, "--cache", cache, "--quiet"}, tc.args...)
		code, _, errText := runCmd(t, args...)
		if code == 0 || !strings.Contains(errText, tc.want) || strings.Count(strings.TrimSpace(errText), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line error containing %q", tc.args, code, errText, tc.want)
		}
	}
}
