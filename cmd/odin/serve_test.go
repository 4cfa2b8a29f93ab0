package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestServeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, 2, "give --nn and --threshold"},
		{[]string{"serve", "--nn", "densenet10"}, 2, "give --nn and --threshold"},
		{[]string{"serve", "--models", "x", "--nn", "densenet10"}, 2, "either --models"},
		{[]string{"serve", "--log-format", "xml", "--nn", "a", "--threshold", "b"}, 2, "--log-format"},
		{[]string{"serve", "--models", t.TempDir()}, 1, "no model configuration"},
		{[]string{"serve", "--models", t.TempDir(), "--features", "/Flatten_output_0"}, 2, "give \"features\" and \"input_shape\" in each model's file"},
		{[]string{"serve", "--nn", "a.onnx", "--threshold", "b", "--input-shape", "3,x,2"}, 2, "--input-shape"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, %q; want %d with %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "-max-queue-delay") {
		t.Errorf("--help: %d %q", code, out.String())
	}
}
