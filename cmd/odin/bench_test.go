package main

import (
	"strings"
	"testing"
)

// odin bench --steps prints the time by kind of layer and the costliest layers; a negative
// count is a usage error.
func TestBenchSteps(t *testing.T) {
	code, stdout, stderr := runCmd(t, "bench", "--nn", tinyONNX, "--n", "4", "--rounds", "1", "--workers", "1", "--steps", "2")
	if code != 0 {
		t.Fatalf("bench --steps 2: exit %d: %s %s", code, stdout, stderr)
	}
	_, profile, ok := strings.Cut(stdout, "where an ODIN step's time goes")
	kinds, layers, ok2 := strings.Cut(profile, "the 2 costliest layers")
	if !ok || !ok2 || !strings.Contains(kinds, "kind of layer") || !strings.Contains(kinds, "conv ") {
		t.Fatalf("bench --steps 2 printed:\n%s", stdout)
	}
	if rows := strings.Split(strings.TrimSpace(layers), "\n"); len(rows) != 3 || !strings.Contains(rows[0], "computation") {
		t.Errorf("want a header and 2 layers, got %d lines:\n%s", len(rows), layers)
	}
	if code, _, stderr := runCmd(t, "bench", "--nn", tinyONNX, "--steps", "-1"); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bench --steps -1: exit %d, %q; want 2 and one line", code, stderr)
	}
}
