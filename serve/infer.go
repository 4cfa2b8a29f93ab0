package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/odin-ood/odin/dataset"
)

// The model's outputs.
const (
	OutputScore     = "ood_score"       // FP32 [N], ODIN score, higher = more in-distribution
	OutputScoreFP64 = "ood_score_fp64"  // FP64 [N], the same score unrounded
	OutputIsOOD     = "is_ood"          // BOOL [N], ood_score < threshold
	OutputClass     = "predicted_class" // INT64 [N]
	OutputLogits    = "logits"          // FP32 [N,K]
	scorePrefix     = "score_"          // FP32 [N] per extra detector: score_msp, score_energy, …
)

// inferRequest is an inference request in any protocol.
type inferRequest struct {
	model, version, id string
	inputs             []tensorIn
	outputs            []string // nil: every output
}

// tensorOut is one output tensor: exactly one data field is set.
type tensorOut struct {
	name, datatype string
	shape          []int64
	f32            []float32
	f64            []float64
	b              []bool
	i64            []int64
}

// param is one response parameter: a string or a float64.
type param struct {
	key string
	str string
	num float64
	isN bool
}

type inferResponse struct {
	model, version, id string
	params             []param
	outputs            []tensorOut
}

// outputNames lists the model's outputs in the order responses give them.
func (m *Model) outputNames() []string {
	names := []string{OutputScore, OutputScoreFP64, OutputIsOOD, OutputClass, OutputLogits}
	for _, d := range m.Detectors[1:] {
		names = append(names, scorePrefix+d.Name())
	}
	return names
}

// infer runs a request on the model.
func (m *Model) infer(ctx context.Context, req *inferRequest, lim Limits) (*inferResponse, error) {
	names := m.outputNames()
	want := req.outputs
	if want == nil {
		want = names
	}
	for i, o := range want {
		if !contains(names, o) {
			return nil, badRequest("unknown output %q: model %s has %s", o, m.Name, strings.Join(names, ", "))
		}
		if contains(want[:i], o) {
			return nil, badRequest("output %q requested twice", o)
		}
	}
	x, n, l, err := m.prepare(req.inputs, lim)
	if err != nil {
		return nil, err
	}
	s, err := m.score(ctx, x, n, true, l)
	if err != nil {
		return nil, err
	}
	th := m.Threshold
	resp := &inferResponse{model: m.Name, version: req.version, id: req.id, params: []param{
		{key: "detector", str: "odin"},
		{key: "temperature", num: th.Temperature, isN: true},
		{key: "magnitude", num: th.Magnitude, isN: true},
		{key: "threshold", num: th.Delta, isN: true},
		{key: "threshold_tpr", num: th.TPR, isN: true},
		{key: "score_orientation", str: "higher is more in-distribution; is_ood = ood_score < threshold"},
	}}
	for _, o := range want {
		resp.outputs = append(resp.outputs, m.output(o, s, n))
	}
	return resp, nil
}

func (m *Model) output(name string, s *Scores, n int) tensorOut {
	N := int64(n)
	switch name {
	case OutputScore:
		return tensorOut{name: name, datatype: "FP32", shape: []int64{N}, f32: toF32(s.ODIN)}
	case OutputScoreFP64:
		return tensorOut{name: name, datatype: "FP64", shape: []int64{N}, f64: s.ODIN}
	case OutputIsOOD:
		return tensorOut{name: name, datatype: "BOOL", shape: []int64{N}, b: s.OOD}
	case OutputClass:
		return tensorOut{name: name, datatype: "INT64", shape: []int64{N}, i64: s.Class}
	case OutputLogits:
		return tensorOut{name: name, datatype: "FP32", shape: []int64{N, int64(m.Net.Classes())}, f32: s.Logits}
	}
	for d, det := range m.Detectors[1:] {
		if name == scorePrefix+det.Name() {
			return tensorOut{name: name, datatype: "FP32", shape: []int64{N}, f32: toF32(s.Extra[d])}
		}
	}
	panic(fmt.Sprintf("serve: output %q not checked", name)) // infer checks names first
}

// toF32 rounds scores to float32; a score beyond float32's range (extra detectors' scores can
// be large negative numbers) becomes ±Inf, which JSON cannot carry, so it is clamped.
func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, s := range v {
		out[i] = float32(max(-math.MaxFloat32, min(math.MaxFloat32, s)))
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// tensorMeta describes an input or output in the model's metadata.
type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

func (m *Model) inputsMeta() []tensorMeta {
	s := m.Net.Graph.Input()
	C, H, W := int64(s.C), int64(s.H), int64(s.W)
	t := []tensorMeta{{InputTensor, "FP32", []int64{-1, C, H, W}}, {InputPixels, "UINT8", []int64{-1, H, W, C}}}
	if m.encodedOK() == nil {
		t = append(t, tensorMeta{InputImage, "BYTES", []int64{-1}})
	}
	return t
}

func (m *Model) outputsMeta() []tensorMeta {
	var out []tensorMeta
	for _, name := range m.outputNames() {
		t := tensorMeta{Name: name, Datatype: "FP32", Shape: []int64{-1}}
		switch name {
		case OutputScoreFP64:
			t.Datatype = "FP64"
		case OutputIsOOD:
			t.Datatype = "BOOL"
		case OutputClass:
			t.Datatype = "INT64"
		case OutputLogits:
			t.Shape = []int64{-1, int64(m.Net.Classes())}
		}
		out = append(out, t)
	}
	return out
}

// properties are the model metadata's free-form properties: how to read the outputs.
func (m *Model) properties() map[string]string {
	th, in := m.Threshold, m.Net.Graph.Input()
	f := func(v float64) string { return fmt.Sprintf("%v", v) }
	p := map[string]string{
		"network":           m.Net.Name,
		"detector":          "odin",
		"temperature":       f(th.Temperature),
		"magnitude":         f(th.Magnitude),
		"threshold":         f(th.Delta),
		"threshold_tpr":     f(th.TPR),
		"checkpoint_sha256": th.Checkpoint,
		"ood_score":         "ODIN score (max softmax at T of the input perturbed by epsilon); higher means more in-distribution",
		"is_ood":            "true when ood_score < threshold (the float64 score is compared)",
		"inputs":            "give exactly one: input (FP32, normalised), pixels (UINT8 RGB) or image (BYTES: PNG/JPEG, base64 in JSON)",
		"resize":            m.Resize.String(),
		"normalisation":     fmt.Sprintf("mean %v std %v", m.Net.Mean, m.Net.Std),
		"input_shape":       fmt.Sprintf("%d×%d×%d (C×H×W)", in.C, in.H, in.W),
	}
	if m.Preprocess != nil {
		b, _ := json.Marshal(m.Preprocess)
		p["preprocess"] = string(b)
	}
	if !m.legacy {
		// The filter serves only 32×32 networks without preprocessing.
		t := m.transform
		if t.Filter == 0 {
			t.Filter = dataset.Bilinear
		}
		p["resize"] = fmt.Sprintf("shorter side to %d, centre crop %d, %v (PIL's resampling)", t.Resize, t.Crop, t.Filter)
	}
	var extra []string
	for _, d := range m.Detectors[1:] {
		extra = append(extra, d.Name())
	}
	if len(extra) > 0 {
		p["extra_detectors"] = strings.Join(extra, ",")
	}
	return p
}
