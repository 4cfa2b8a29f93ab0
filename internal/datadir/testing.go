package datadir

import (
	"os"
	"path/filepath"
)

// TB is the part of testing.TB that ForTest uses. Taking it rather than testing.TB keeps package
// testing out of every binary that imports datadir (go list -deps ./cmd/odin shows no testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// ForTest returns the shared data directory for a test that needs real data, and the path of rel
// inside it. When the data is missing the test is skipped on a developer machine and fails when
// CI=true, so that CI never passes by skipping the real-data tests. Pass the test's *testing.T.
func ForTest(tb TB, rel string) string {
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
