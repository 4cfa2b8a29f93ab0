package decision

import (
	"os"
	"strings"
	"testing"
)

// The README's "Using it from Go" is the body of Example (between its README begin and end
// marks), so the snippet compiles and runs as a test.
func TestReadmeSnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Using it from Go\n")
	_, code, ok2 := strings.Cut(section, "```go\n")
	code, _, ok3 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no Go code block under ## Using it from Go")
	}
	_, body, ok := strings.Cut(string(src), "\t// README begin\n")
	body, _, ok2 = strings.Cut(body, "\t// README end\n")
	if !ok || !ok2 {
		t.Fatal("example_test.go has no README begin/end marks")
	}
	var want []string
	for _, l := range strings.SplitAfter(body, "\n") {
		want = append(want, strings.TrimPrefix(l, "\t"))
	}
	if got := strings.Join(want, ""); strings.TrimSpace(got) != strings.TrimSpace(code) {
		t.Errorf("README snippet differs from Example's body; README:\n%s\nexample:\n%s", code, got)
	}
}
