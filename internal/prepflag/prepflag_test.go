package prepflag

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parse(t *testing.T, args []string, skip ...string) (*Flags, *flag.FlagSet) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p Flags
	if slices.Contains(skip, "resize") {
		fs.String("resize", "", "the command's own: a filter for 32×32 networks")
	}
	p.Register(fs, skip...)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return &p, fs
}

// Flags without a file set only their own fields; a file's fields are overridden by flags; no
// flag is no preprocessing.
func TestPreprocess(t *testing.T) {
	p, _ := parse(t, nil)
	if pre, err := p.Preprocess(); pre != nil || err != nil {
		t.Errorf("no flags: %+v, %v", pre, err)
	}
	p, _ = parse(t, []string{"--resize", "36", "--crop", "32"})
	pre, err := p.Preprocess()
	if err != nil || pre == nil || pre.Resize != 36 || pre.Crop != 32 || pre.Mean != nil || pre.Std != nil || pre.Scale != 0 {
		t.Errorf("resize and crop: %+v, %v", pre, err)
	}
	file := filepath.Join(t.TempDir(), "pre.json")
	if err := os.WriteFile(file, []byte(`{"resize": 256, "crop": 224, "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ = parse(t, []string{"--preprocess", file, "--crop", "200", "--std", "0.25, 0.25,0.25", "--scale", "1"})
	pre, err = p.Preprocess()
	if err != nil || pre.Resize != 256 || pre.Crop != 200 || pre.Mean[0] != 0.5 || pre.Std[2] != 0.25 || pre.Scale != 1 {
		t.Errorf("file and flags: %+v, %v", pre, err)
	}
	if got := strings.Join(p.Args(), " "); got != "--preprocess "+file+" --std 0.25, 0.25,0.25 --crop 200 --scale 1" {
		t.Errorf("args %q", got)
	}
}

// A command's own flag of a skipped name (odin score's --resize filter) is not a preprocessing.
func TestSkippedFlagIsTheCommands(t *testing.T) {
	p, fs := parse(t, []string{"--resize", "bilinear", "--crop", "16"}, "resize")
	if fs.Lookup("resize").Value.String() != "bilinear" {
		t.Fatal("the command's --resize was not parsed")
	}
	pre, err := p.Preprocess()
	if err != nil || pre == nil || pre.Resize != 0 || pre.Crop != 16 {
		t.Errorf("--resize bilinear --crop 16: %+v, %v", pre, err)
	}
	p, _ = parse(t, []string{"--resize", "bilinear"}, "resize")
	if pre, err := p.Preprocess(); pre != nil || err != nil {
		t.Errorf("--resize bilinear alone: %+v, %v; want no preprocessing", pre, err)
	}
}

// Bad values are one line naming the flag and the value.
func TestErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mean": [0.5, 0.5]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mean", "0.5,0.5"}, `--mean "0.5,0.5": want three comma-separated values R,G,B`},
		{[]string{"--std", "1,x,1"}, `--std "1,x,1": "x" is not a number`},
		{[]string{"--scale", "-1"}, "--scale -1: must be positive"},
		{[]string{"--preprocess", bad}, "--preprocess " + bad + ": "},
		{[]string{"--preprocess", filepath.Join(t.TempDir(), "none.json")}, "--preprocess: open "},
		{[]string{"--std", "0,1,1"}, "std"},
		{[]string{"--input-shape", "3,224"}, `--input-shape "3,224": want C,H,W`},
		{[]string{"--input-shape", "3,0,224"}, `--input-shape "3,0,224": "0" is not a size`},
	} {
		p, _ := parse(t, c.args)
		_, err := p.Preprocess()
		if err == nil {
			_, err = p.InputShape()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", c.args, err, c.want)
		}
	}
	p, _ := parse(t, []string{"--input-shape", "3, 224,200", "--features", "/pool"})
	if s, err := p.InputShape(); err != nil || !slices.Equal(s, []int{3, 224, 200}) || p.Features() != "/pool" {
		t.Errorf("input shape %v, %v; features %q", s, err, p.Features())
	}
}
