package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// datasetsData makes a data folder holding 15 Tiny-ImageNet-like 64×64 test JPEGs.
func datasetsData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	dir := filepath.Join(data, "tiny-imagenet-200", "test", "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 15 {
		m := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for k := range m.Pix {
			m.Pix[k] = byte(k*(i+1) + i)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, m, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("test_%d.JPEG", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func runDatasets(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"datasets"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestDatasetsBuild(t *testing.T) {
	data, cache := datasetsData(t), t.TempDir()
	code, out, errOut := runDatasets("build", "Imagenet_resize", "--data", data, "--cache", cache, "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dir := filepath.Join(cache, "Imagenet_resize-seed", "Imagenet_resize", "Imagenet_resize")
	if !strings.HasPrefix(out, "Imagenet_resize (seed construction): 15 images in "+dir+" (") {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "building Imagenet_resize: 15/15") {
		t.Errorf("stderr %q", errOut)
	}
	first, err := os.ReadFile(filepath.Join(dir, "00014.jpg"))
	if err != nil {
		t.Fatal(err)
	}

	code, _, errOut = runDatasets("build", "Imagenet_resize", "--data", data, "--cache", cache)
	if code != 1 || !strings.Contains(errOut, "already built in "+filepath.Join(cache, "Imagenet_resize-seed")+"; --force rebuilds it") {
		t.Errorf("second build: exit %d, %q", code, errOut)
	}
	code, _, errOut = runDatasets("build", "Imagenet_resize", "--force", "--data", data, "--cache", cache, "--workers", "1")
	if code != 0 {
		t.Fatalf("forced build: exit %d: %s", code, errOut)
	}
	again, err := os.ReadFile(filepath.Join(dir, "00014.jpg"))
	if err != nil || !bytes.Equal(first, again) {
		t.Error("rebuild with another worker count gave other bytes")
	}

	// Overriding parameters yields a labelled construction; matching a named one yields its name.
	code, out, errOut = runDatasets("build", "Imagenet_resize", "--construction", "seed", "--filter", "bicubic", "--antialias",
		"--jpeg-quality", "0", "--data", data, "--cache", cache)
	if code != 0 || !strings.Contains(out, "(bicubic-aa-png construction)") {
		t.Errorf("custom build: exit %d, %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(cache, "Imagenet_resize-bicubic-aa-png", "Imagenet_resize", "Imagenet_resize", "00000.png")); err != nil {
		t.Error(err)
	}
	code, out, _ = runDatasets("build", "Imagenet", "--filter", "bilinear", "--antialias", "--jpeg-quality", "0",
		"--seed", "3", "--data", data, "--cache", cache)
	if code != 0 || !strings.Contains(out, "Imagenet (clean construction, crop seed 3): 15 images in "+
		filepath.Join(cache, "Imagenet-clean-s3", "Imagenet", "test")) {
		t.Errorf("crop build: exit %d, %q", code, out)
	}

	code, out, _ = runDatasets("list", "--data", data, "--cache", cache)
	if code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	for _, want := range []string{
		"cifar10          missing: no " + filepath.Join(data, "cifar-10-batches-bin", "test_batch.bin") + "; fetch it with `odin fetch cifar10`",
		"Imagenet_resize  seed: " + dir + " (built, 15 images)",
		"Imagenet_resize  clean: missing: no " + filepath.Join(cache, "Imagenet_resize-clean", "Imagenet_resize", "Imagenet_resize") +
			"; build it with `odin datasets build Imagenet_resize --construction clean`",
		"Imagenet_resize  bicubic-aa-png: " + filepath.Join(cache, "Imagenet_resize-bicubic-aa-png", "Imagenet_resize", "Imagenet_resize") + " (built, 15 images)",
		"Imagenet         clean-s3: " + filepath.Join(cache, "Imagenet-clean-s3", "Imagenet", "test") + " (built, 15 images)",
		"iSUN             seed: missing: no " + filepath.Join(data, "iSUN", "iSUN_patches") + "; fetch it with `odin fetch iSUN`",
		"Uniform          generated",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestDatasetsErrors(t *testing.T) {
	data, cache := datasetsData(t), t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "want a subcommand: build or list"},
		{[]string{"make"}, 2, `unknown subcommand "make" (valid: build, list)`},
		{[]string{"build"}, 2, "want one set name"},
		{[]string{"build", "iSUN"}, 2, "iSUN: cannot be built"},
		{[]string{"build", "Imagenet", "--construction", "fuzzy"}, 2, `unknown construction "fuzzy"`},
		{[]string{"build", "Imagenet", "--filter", "gauss"}, 2, `unknown filter "gauss"`},
		{[]string{"build", "Imagenet_resize", "--antialias"}, 2, "--antialias has no effect with the nearest filter"},
		{[]string{"build", "Imagenet_resize", "--jpeg-quality", "101"}, 2, "JPEG quality 101 outside 1..100"},
		{[]string{"build", "Imagenet_resize", "--workers", "0"}, 2, "--workers must be at least 1"},
		{[]string{"build", "LSUN", "--data", data, "--cache", cache}, 1, "no source folder " + filepath.Join(data, "lsun-raw")},
		{[]string{"list", "extra"}, 2, "unexpected arguments: extra"},
	}
	for _, c := range cases {
		code, _, errOut := runDatasets(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want %d, %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if code, out, _ := runDatasets("build", "--help"); code != 0 || !strings.Contains(out, "-construction") {
		t.Errorf("--help: %d %q", code, out)
	}
}
