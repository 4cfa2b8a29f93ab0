package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/onnx"
	"github.com/odin-ood/odin/ood"
	pb "github.com/odin-ood/odin/serve/oippb"
)

// imageSize is the number of values of one image of the CIFAR networks the older tests serve.
const imageSize = 3 * 32 * 32

// tinyONNX is a small convolutional network exported from PyTorch, taking 3×16×16 inputs.
const tinyONNX = "../onnx/testdata/tiny-op13.onnx"

func onnxLoad(path string, opt ONNXOptions) (*models.Model, error) {
	m, _, err := onnx.Load(path, onnx.Options{Features: opt.Features, InputShape: opt.InputShape})
	return m, err
}

// tinyPreprocess resizes the shorter side to 20 and crops 16×16, with a normalisation of its
// own (not the importer's ImageNet default), so that a preprocessing not applied shows.
func tinyPreprocess() *models.Preprocess {
	return &models.Preprocess{Mean: []float64{0.5, 0.4, 0.3}, Std: []float64{0.2, 0.25, 0.3}, Resize: 20, Crop: 16,
		Interpolation: "bilinear", Scale: 1.0 / 255}
}

// tinyModel serves the 3×16×16 network as model "tiny" with preprocessing p (nil: none).
func tinyModel(t testing.TB, p *models.Preprocess, edit func(*ModelConfig)) *Model {
	t.Helper()
	c := ModelConfig{Name: "tiny", ONNX: tinyONNX, Preprocess: p,
		Resize: "bilinear", Antialias: true, MaxBatch: 4, Workers: 2}
	if edit != nil {
		edit(&c)
	}
	// Calibrated with the model's own preprocessing, as odin calibrate records it.
	pre := ""
	if c.Preprocess != nil {
		net, err := onnxLoad(tinyONNX, ONNXOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eff, err := experiment.ApplyPreprocess(net, *c.Preprocess)
		if err != nil {
			t.Fatal(err)
		}
		pre = preprocessJSON(&eff)
	}
	c.Threshold = writeThresholdWith(t, tinyONNX, 0.2001, pre)
	m, err := LoadModel(c, onnxLoad)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomPNG encodes a w×h image of random pixels.
func randomPNG(w, h int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(r.IntN(256))
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	return b.Bytes()
}

// direct returns the preprocessed images of pngs ([0,1], C×H×W), normalised with the model's
// normalisation, their 8-bit pixels (H×W×C), and the ODIN scores the engine computes from the
// normalised tensor on its own, outside the server.
func direct(t *testing.T, m *Model, tr dataset.Transform, pngs [][]byte) (x []float32, pix []byte, want []float64) {
	t.Helper()
	s := m.Net.Graph.Input()
	size, n := s.Size(), len(pngs)
	raw := make([]float32, n*size)
	for i, p := range pngs {
		w, h, err := dataset.DecodeTransformed("test", p, tr, raw[i*size:(i+1)*size])
		if err != nil || w != s.W || h != s.H {
			t.Fatalf("image %d: %d×%d, %v", i, w, h, err)
		}
	}
	pix = make([]byte, n*size)
	plane := s.H * s.W
	for i := range n {
		for c := range s.C {
			for p := range plane {
				pix[i*size+p*s.C+c] = byte(math.Round(float64(raw[i*size+c*plane+p]) * 255))
			}
		}
	}
	x = make([]float32, n*size)
	m.Net.Normalize(x, raw, n)
	b := ood.NewBatch(m.Net, m.Net.Graph.NewExec(n))
	if err := b.LoadNormalized(x, n); err != nil {
		t.Fatal(err)
	}
	want = make([]float64, n)
	if err := m.Detectors[0].Score(context.Background(), b, want); err != nil {
		t.Fatal(err)
	}
	return x, pix, want
}

// restScores posts one input and returns ood_score_fp64.
func restScores(t *testing.T, ts *testServer, name, datatype string, shape []int64, data any) []float64 {
	t.Helper()
	code, body := ts.call(t, "POST", "/v2/models/tiny/infer", "application/json", inferJSON(name, datatype, shape, data, OutputScoreFP64), false)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", name, code, body)
	}
	out, _ := restOut(t, body)
	var s []float64
	if err := json.Unmarshal(out[OutputScoreFP64], &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d scores, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("%s: image %d scores %v, the engine %v", what, i, got[i], want[i])
		}
	}
}

// TestAnySizeInputs serves a 3×16×16 network with resize-and-crop preprocessing and checks every
// input kind — FP32 tensor, UINT8 pixels, BYTES PNGs of other sizes over REST and gRPC, and
// /v1/score — against the engine scoring the same preprocessed tensor directly, bit for bit.
func TestAnySizeInputs(t *testing.T) {
	p := tinyPreprocess()
	m := tinyModel(t, p, nil)
	ts := startServer(t, Options{}, m)
	pngs := [][]byte{randomPNG(30, 24, 1), randomPNG(24, 41, 2), randomPNG(16, 16, 3), randomPNG(64, 20, 4), randomPNG(20, 20, 5)}
	x, pix, want := direct(t, m, p.Transform(), pngs)
	n := int64(len(pngs))

	if math.Abs(float64(m.Net.Mean[0])-0.5) > 1e-6 || math.Abs(float64(m.Net.Std[2])-0.3) > 1e-6 {
		t.Fatalf("preprocessing not applied: mean %v", m.Net.Mean)
	}
	sameBits(t, "FP32 input", restScores(t, ts, InputTensor, "FP32", []int64{n, 3, 16, 16}, x), want)
	sameBits(t, "UINT8 pixels", restScores(t, ts, InputPixels, "UINT8", []int64{n, 16, 16, 3}, bytesAsInts(pix)), want)
	sameBits(t, "BYTES PNG", restScores(t, ts, InputImage, "BYTES", []int64{n}, pngs), want)

	req := &pb.ModelInferRequest{ModelName: "tiny",
		Inputs:  []*pb.ModelInferRequest_InferInputTensor{{Name: InputImage, Datatype: "BYTES", Shape: []int64{n}, Contents: &pb.InferTensorContents{BytesContents: pngs}}},
		Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: OutputScoreFP64}}}
	resp, err := ts.grpc.ModelInfer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "gRPC BYTES", resp.Outputs[0].Contents.Fp64Contents, want)
	var raw []byte
	for _, v := range x {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	req = &pb.ModelInferRequest{ModelName: "tiny", RawInputContents: [][]byte{raw},
		Inputs:  []*pb.ModelInferRequest_InferInputTensor{{Name: InputTensor, Datatype: "FP32", Shape: []int64{n, 3, 16, 16}}},
		Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: OutputScoreFP64}}}
	if resp, err = ts.grpc.ModelInfer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, n)
	for i := range got {
		got[i] = math.Float64frombits(binary.LittleEndian.Uint64(resp.RawOutputContents[0][8*i:]))
	}
	sameBits(t, "gRPC raw FP32", got, want)

	body, ct := multipartBody(t, pngs...)
	code, out := ts.call(t, "POST", "/v1/score", ct, body, false)
	if code != http.StatusOK {
		t.Fatalf("/v1/score: %d %s", code, out)
	}
	var sr scoreResponse
	if err := json.Unmarshal(out, &sr); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range sr.Results {
		got = append(got, r.Score)
	}
	sameBits(t, "/v1/score", got, want)
	if m.leased() != 0 {
		t.Errorf("%d bytes still leased after every request was answered", m.leased())
	}
}

// TestAnySizeMetadata: the model metadata reports the network's real shapes and preprocessing.
func TestAnySizeMetadata(t *testing.T) {
	ts := startServer(t, Options{}, tinyModel(t, tinyPreprocess(), nil))
	code, body := ts.call(t, "GET", "/v2/models/tiny", "", nil, false)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	var md struct {
		Inputs     []tensorMeta      `json:"inputs"`
		Properties map[string]string `json:"properties"`
	}
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{InputTensor: "FP32[-1 3 16 16]", InputPixels: "UINT8[-1 16 16 3]", InputImage: "BYTES[-1]"}
	if len(md.Inputs) != len(want) {
		t.Fatalf("inputs %+v", md.Inputs)
	}
	for _, in := range md.Inputs {
		if got := fmt.Sprint(in.Datatype, in.Shape); got != want[in.Name] {
			t.Errorf("input %s: %s, want %s", in.Name, got, want[in.Name])
		}
	}
	if pp := md.Properties["preprocess"]; !strings.Contains(pp, `"crop":16`) || !strings.Contains(pp, `"resize":20`) {
		t.Errorf("preprocess property %q", pp)
	}
	if r := md.Properties["resize"]; r != "shorter side to 20, centre crop 16, bilinear (PIL's resampling)" {
		t.Errorf("resize property %q", r)
	}
}

// TestAnySizeBadInput: tensors of the wrong size get 400 with the protocol's error body (REST)
// or InvalidArgument (gRPC), and the server goes on answering.
func TestAnySizeBadInput(t *testing.T) {
	pre := tinyModel(t, tinyPreprocess(), nil)
	ts := startServer(t, Options{}, pre)
	x := make([]float32, 3*32*32)
	cases := []struct {
		model, name, datatype string
		shape                 []int64
		data                  any
	}{
		{"tiny", InputTensor, "FP32", []int64{1, 3, 32, 32}, x},
		{"tiny", InputTensor, "FP32", []int64{1, 3, 16, 32}, x[:3*16*32]},
		{"tiny", InputPixels, "UINT8", []int64{1, 32, 32, 3}, make([]int, 3*32*32)},
		{"tiny", InputPixels, "UINT8", []int64{1, 3, 16, 16}, make([]int, 3*16*16)},
		{"tiny", InputTensor, "FP32", []int64{1, 16, 16, 3}, x[:3*16*16]},
	}
	for _, c := range cases {
		body := inferJSON(c.name, c.datatype, c.shape, c.data)
		code, out := ts.call(t, "POST", "/v2/models/"+c.model+"/infer", "application/json", body, false)
		if code != http.StatusBadRequest {
			t.Errorf("%s %s %v: %d %s, want 400", c.model, c.name, c.shape, code, out)
		}
	}
	// A thin image within the pixel limit would pass it after the aspect-keeping resize.
	code, out := ts.call(t, "POST", "/v2/models/tiny/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{1}, [][]byte{hugePNG(8, 600000)}), false)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), "resizes to") {
		t.Errorf("8×600000 PNG resized to 20×1500000: %d %s", code, out)
	}

	wrong := &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: InputTensor, Datatype: "FP32",
		Shape: []int64{1, 3, 32, 32}, Contents: &pb.InferTensorContents{Fp32Contents: x}}}}
	if _, err := ts.grpc.ModelInfer(context.Background(), wrong); status.Code(err) != codes.InvalidArgument {
		t.Errorf("gRPC 3×32×32 tensor to a 3×16×16 model: %v", err)
	}
	if pre.leased() != 0 {
		t.Errorf("%d bytes still leased after refused requests", pre.leased())
	}
}

// TestByteBudget: the images a model holds are bounded in bytes — a request that can never fit
// gets 413, one that does not fit now 429 — and the bytes come back when requests are answered.
func TestByteBudget(t *testing.T) {
	per := int64(3 * 16 * 16 * 4)
	m := tinyModel(t, tinyPreprocess(), func(c *ModelConfig) { c.MaxQueueBytes = 4 * per })
	ts := startServer(t, Options{}, m)
	pngs := [][]byte{randomPNG(20, 20, 1), randomPNG(20, 20, 2), randomPNG(20, 20, 3), randomPNG(20, 20, 4), randomPNG(20, 20, 5)}
	code, out := ts.call(t, "POST", "/v2/models/tiny/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{5}, pngs), false)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), "max_queue_bytes") {
		t.Errorf("5 images over a budget of 4: %d %s", code, out)
	}
	held, err := m.b.reserve(3)
	if err != nil {
		t.Fatal(err)
	}
	code, out = ts.call(t, "POST", "/v2/models/tiny/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{2}, pngs[:2]), false)
	if code != http.StatusTooManyRequests {
		t.Errorf("2 images with 1 free: %d %s", code, out)
	}
	if _, err := m.Score(context.Background(), make([]float32, 2*3*16*16), 2); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Score of 2 images with 1 free: %v", err)
	}
	held.release()
	held.release() // a lease returns its bytes once
	code, out = ts.call(t, "POST", "/v2/models/tiny/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{4}, pngs[:4]), false)
	if code != http.StatusOK {
		t.Errorf("4 images with 4 free: %d %s", code, out)
	}
	if m.leased() != 0 {
		t.Errorf("%d bytes leased after the requests", m.leased())
	}
	held, _ = m.b.reserve(2)
	_, metrics := ts.call(t, "GET", "/metrics", "", nil, false)
	held.release()
	if want := fmt.Sprintf("odin_image_bytes{model=\"tiny\"} %d\n", 2*per); !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

// TestPreprocessConfig: "preprocess" in a model's JSON takes models.ParsePreprocess's defaults
// and checks, and a crop that is not the network's size is refused at load.
func TestPreprocessConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"name": "m", "onnx": "x.onnx", "threshold": "t.json", "preprocess": {"resize": 20, "crop": 16}}`), "m.json", "/d")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Preprocess; p == nil || p.Resize != 20 || p.Crop != 16 || p.Mean[0] != 0.485 || p.Scale != 1.0/255 {
		t.Fatalf("preprocess %+v", c.Preprocess)
	}
	for _, bad := range []string{`{"crop": 16, "colour": 1}`, `{"crop": -1}`, `{"interpolation": "cubic"}`, `{"std": [0, 1, 1]}`} {
		if _, err := ParseConfig([]byte(`{"name": "m", "onnx": "x.onnx", "threshold": "t.json", "preprocess": `+bad+`}`), "m.json", "/d"); err == nil {
			t.Errorf("preprocess %s accepted", bad)
		}
	}
	imagenet := models.ImageNetPreprocess()
	c = ModelConfig{Name: "tiny", ONNX: tinyONNX, Threshold: writeThreshold(t, tinyONNX, 0.2), Preprocess: &imagenet}
	if _, err := LoadModel(c, onnxLoad); err == nil || !strings.Contains(err.Error(), "224") {
		t.Errorf("224 crop for a 16×16 network: %v", err)
	}
	// odin serve --nn model.onnx gives the ONNX file as the checkpoint.
	m := tinyModel(t, nil, func(c *ModelConfig) { c.ONNX, c.Checkpoint = "", tinyONNX })
	if m.platform() != "odin_onnx" || m.Net.Graph.Input().H != 16 {
		t.Errorf("ONNX file as checkpoint: platform %s, input %v", m.platform(), m.Net.Graph.Input())
	}
}

// TestAnySizeDefaults: a network of another size than 32×32 without preprocessing has its
// encoded images resized and cropped to its side with its own normalisation, and a
// preprocessing that gives only part of the recipe keeps the network's mean and std.
func TestAnySizeDefaults(t *testing.T) {
	plain := tinyModel(t, nil, func(c *ModelConfig) { c.Name = "plain" })
	partial := tinyModel(t, &models.Preprocess{Resize: 20}, func(c *ModelConfig) { c.Name = "partial" })
	ts := startServer(t, Options{}, plain, partial)
	if partial.Net.Mean != plain.Net.Mean || partial.Net.Std != plain.Net.Std {
		t.Errorf("partial preprocessing: mean %v std %v, the network's own %v %v", partial.Net.Mean, partial.Net.Std, plain.Net.Mean, plain.Net.Std)
	}
	pngs := [][]byte{randomPNG(30, 24, 1), randomPNG(16, 16, 2), randomPNG(32, 32, 3)}
	for _, c := range []struct {
		m *Model
		t dataset.Transform
	}{{plain, dataset.Transform{Resize: 16, Crop: 16}}, {partial, dataset.Transform{Resize: 20, Crop: 16}}} {
		_, _, want := direct(t, c.m, c.t, pngs)
		code, out := ts.call(t, "POST", "/v2/models/"+c.m.Name+"/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{3}, pngs, OutputScoreFP64), false)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.m.Name, code, out)
		}
		o, _ := restOut(t, out)
		var got []float64
		if err := json.Unmarshal(o[OutputScoreFP64], &got); err != nil {
			t.Fatal(err)
		}
		sameBits(t, c.m.Name, got, want)
	}
}

// A threshold calibrated on images prepared another way is refused at load.
func TestThresholdOtherPreprocess(t *testing.T) {
	c := ModelConfig{Name: "tiny", ONNX: tinyONNX, Preprocess: tinyPreprocess(), MaxBatch: 4, Workers: 1,
		Threshold: writeThreshold(t, tinyONNX, 0.2001)}
	if _, err := LoadModel(c, onnxLoad); !errors.Is(err, decision.ErrOtherPreprocess) {
		t.Errorf("threshold of the network's own preprocessing, model with another: %v, want ErrOtherPreprocess", err)
	}
}
