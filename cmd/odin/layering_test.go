package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// parseCommand parses the command's non-test sources.
func parseCommand(t *testing.T) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return files
}

// The score-cache identity is the library's: the command line neither builds an Eval nor names
// the pieces of an identity nor sets cache folders and identities; it hands a Setup to
// experiment.NewEval (eval, reproduce) and a Network to Tuner.UseCache (tune).
func TestNoCacheIdentityInCommand(t *testing.T) {
	banned := map[string]bool{"experiment.IdentityDir": true, "experiment.ScoreIdentity": true, "experiment.Images": true,
		"experiment.ImagesOf": true, "experiment.CurrentKernel": true, "experiment.SetDigest": true}
	fields := map[string]bool{"InCache": true, "OutCache": true, "InIdentity": true, "OutIdentity": true, "Identity": true, "CacheDir": true}
	calls := map[string]int{}
	for name, f := range parseCommand(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && banned[x.Name+"."+n.Sel.Name] {
					t.Errorf("%s uses %s.%s: identities are the library's", name, x.Name, n.Sel.Name)
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Eval" {
					t.Errorf("%s builds an experiment.Eval literal: use experiment.NewEval", name)
				}
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Value == strconv.Quote("checkpoint") {
							t.Errorf("%s keys a map by \"checkpoint\": identities are the library's", name)
						}
					}
				}
			case *ast.AssignStmt:
				for _, l := range n.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && fields[sel.Sel.Name] {
						t.Errorf("%s sets .%s: cache folders and identities are the library's", name, sel.Sel.Name)
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok {
						calls[name+" "+x.Name+"."+sel.Sel.Name]++
					}
					calls[name+" ."+sel.Sel.Name]++
				}
			}
			return true
		})
	}
	for _, want := range []string{"eval.go experiment.NewEval", "reproduce.go experiment.NewEval", "tune.go .UseCache"} {
		if calls[want] == 0 {
			t.Errorf("no call %s", want)
		}
	}
}

// Package testing must not be linked into the command (internal/datadir's test helper once
// pulled it in).
func TestNoTestingInBinary(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "testing" || strings.HasPrefix(p, "testing/") {
			t.Errorf("odin links %s", p)
		}
	}
}

// Every command that takes no positional arguments refuses a stray one with a one-line usage
// error, before it loads anything.
func TestStrayArgument(t *testing.T) {
	empty := t.TempDir()
	for _, cmd := range []string{"eval", "tune", "calibrate", "reproduce", "fit", "accuracy", "bench"} {
		var stdout, stderr strings.Builder
		code := run([]string{cmd, "--data", empty, "Imagenet"}, &stdout, &stderr)
		want := `odin ` + cmd + `: unexpected argument "Imagenet": odin ` + cmd + ` takes only flags (see odin ` + cmd + " --help)\n"
		if code != 2 || stderr.String() != want {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", cmd, code, stderr.String(), want)
		}
	}
}
