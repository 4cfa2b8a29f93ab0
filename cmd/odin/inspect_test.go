package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestInspectONNX(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"inspect", "../../onnx/testdata/tiny-op13.onnx"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"input:        input [batch, 3, 16, 16]",
		"parameters:   2.72 k (2717)",
		"FLOPs/image:  forward 477 k, ODIN step 1.43 M",
		"features:     /Reshape_output_0 (16×1×1)",
		"the final Softmax (node /Softmax) was removed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"inspect", "--input-shape", "3,x,4", "../../onnx/testdata/tiny-op13.onnx"}, &out, &errb); code != 2 {
		t.Errorf("bad --input-shape: exit %d, want 2", code)
	}
}
