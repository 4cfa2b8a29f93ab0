package onnx

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText prints the report for a person: the input, the operators and the layers they
// became, parameters, FLOPs per image, the feature tap, notes and unsupported operators.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Producer != "" {
		fmt.Fprintf(&b, "producer:     %s, opset %d\n", r.Producer, r.Opset)
	} else {
		fmt.Fprintf(&b, "opset:        %d\n", r.Opset)
	}
	if r.InputName != "" {
		fmt.Fprintf(&b, "input:        %s [%s, %d, %d, %d]\n", r.InputName, r.Batch, r.Input.C, r.Input.H, r.Input.W)
	}
	fmt.Fprintf(&b, "operators:    %s\n", counts(r.Ops))
	if len(r.Unsupported) > 0 {
		fmt.Fprintf(&b, "unsupported:  %s\n", strings.Join(r.Unsupported, ", "))
	}
	if len(r.Layers) > 0 {
		fmt.Fprintf(&b, "layers:       %s\n", counts(r.Layers))
		fmt.Fprintf(&b, "parameters:   %s (%d)\n", si(float64(r.Params)), r.Params)
		fmt.Fprintf(&b, "FLOPs/image:  forward %s, ODIN step %s (forward, input gradient, forward)\n",
			si(float64(r.FLOPs)), si(float64(r.ODINFLOPs())))
	}
	if r.Features != "" {
		fmt.Fprintf(&b, "features:     %s\n", r.Features)
	} else if len(r.Layers) > 0 {
		fmt.Fprintf(&b, "features:     none (the logits do not come from a Gemm or MatMul; name a node with Options.Features)\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note:         %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counts lists a histogram as "Conv 53, Relu 49, …", most frequent first.
func counts(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range m {
		if v > 0 {
			s = append(s, kv{k, v})
		}
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].v != s[j].v {
			return s[i].v > s[j].v
		}
		return s[i].k < s[j].k
	})
	parts := make([]string, len(s))
	for i, e := range s {
		parts[i] = fmt.Sprintf("%s %d", e.k, e.v)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// si writes a count with an SI prefix: 11.7 M, 3.64 G.
func si(v float64) string {
	for _, p := range []struct {
		s string
		f float64
	}{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if v >= p.f {
			return fmt.Sprintf("%.3g %s", v/p.f, p.s)
		}
	}
	return fmt.Sprintf("%.0f", v)
}
