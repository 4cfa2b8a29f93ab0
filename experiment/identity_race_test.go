package experiment

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestIdentityRace: run.json was checked and then written without a lock, so two runs with
// different --out_dataset sharing a --scores folder could both go ahead. Now one run records its
// identity and the other is refused with a one-line error, and run.json is always whole.
func TestIdentityRace(t *testing.T) {
	dir := t.TempDir()
	for round := range 20 {
		sub := filepath.Join(dir, fmt.Sprint(round))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(sub, "run.json")
		ids := []map[string]string{{"net": "densenet10", "out": "Imagenet"}, {"net": "densenet10", "out": "LSUN"}}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for r := range 2 {
			wg.Go(func() { errs[r] = checkIdentity(path, ids[r]) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: errors %v, want exactly one run let in", round, errs)
		}
		won := 0
		if errs[0] != nil {
			won = 1
		}
		if msg := errs[1-won].Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, `were made with out=`) {
			t.Errorf("round %d: refused run's error %q", round, msg)
		}
		var got map[string]string
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &got); err != nil || !maps.Equal(got, ids[won]) {
			t.Fatalf("round %d: run.json %q is not the winner's identity: %v", round, b, err)
		}
	}
}
