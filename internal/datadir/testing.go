package datadir

import (
	"os"
	"path/filepath"
	"testing"
)

// ForTest returns the shared data directory for a test that needs real data, and the path of rel
// inside it. When the data is missing the test is skipped on a developer machine and fails when
// CI=true, so that CI never passes by skipping the real-data tests.
func ForTest(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := Shared()
	if err == nil {
		p := filepath.Join(dir, rel)
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("real data needed and missing in CI: %v", err)
	}
	tb.Skipf("real data missing: %v", err)
	return ""
}
