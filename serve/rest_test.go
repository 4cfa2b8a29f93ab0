package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/odin-ood/odin/experiment"
)

// memSet is a dataset.Dataset of images in memory.
type memSet struct{ x []float32 }

func (s memSet) Name() string      { return "memory" }
func (s memSet) Len() int          { return len(s.x) / imageSize }
func (s memSet) Classes() []string { return nil }
func (s memSet) Image(i int, dst []float32) (int, error) {
	copy(dst, s.x[i*imageSize:(i+1)*imageSize])
	return -1, nil
}

// libraryScores scores images ([0,1], channel-major) as odin eval does: experiment.Scorer with
// the model's detectors, micro-batches of 5 on 2 workers. It returns scores[d][i].
func libraryScores(t testing.TB, m *Model, x []float32) [][]float64 {
	t.Helper()
	sc := experiment.NewScorer(m.Net, m.Detectors, 2, 5)
	s, err := sc.Score(context.Background(), memSet{x}, 0, len(x)/imageSize, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pngOf encodes image i of pix (HWC bytes) as a 32×32 PNG.
func pngOf(pix []byte, i int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for p := range 1024 {
		o := i*imageSize + 3*p
		img.SetNRGBA(p%32, p/32, color.NRGBA{pix[o], pix[o+1], pix[o+2], 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func TestRESTEndpointsConform(t *testing.T) {
	ts := startServer(t, Options{}, smallModel(t, nil))
	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/v2", "/v2/", "/v2/models/small",
		"/v2/models/small/versions/1", "/v2/models/small/ready", "/v2/models/small/versions/1/ready"} {
		code, body := ts.call(t, "GET", path, "", nil, false)
		if code != 200 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	_, body := ts.call(t, "GET", "/v2/models/small", "", nil, false)
	var meta struct {
		Inputs, Outputs []tensorMeta
		Properties      map[string]string
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range meta.Outputs {
		names = append(names, o.Name+":"+o.Datatype)
	}
	if got := strings.Join(names, ","); got != "ood_score:FP32,ood_score_fp64:FP64,is_ood:BOOL,predicted_class:INT64,logits:FP32,score_msp:FP32,score_energy:FP32" {
		t.Errorf("outputs %s", got)
	}
	if len(meta.Inputs) != 3 || !strings.Contains(meta.Properties["ood_score"], "higher means more in-distribution") {
		t.Errorf("metadata %s", body)
	}
	code, body := ts.call(t, "GET", "/v2/models/nosuch", "", nil, false)
	if code != 404 || !strings.Contains(string(body), "nosuch") {
		t.Errorf("unknown model: %d %s", code, body)
	}
}

// TestSameAnswers: the scores served over REST (three input types), gRPC and /v1/score, alone
// and in micro-batches shared with other requests, equal the library's bit for bit.
func TestSameAnswers(t *testing.T) {
	m := smallModel(t, nil)
	ts := startServer(t, Options{}, m)
	const n = 12
	x, pix := randomImages(n, 7)
	want := libraryScores(t, m, x)
	norm := make([]float32, len(x))
	m.Net.Normalize(norm, x, n)

	check := func(how string, i int, got float64) {
		t.Helper()
		if math.Float64bits(got) != math.Float64bits(want[0][i]) {
			t.Errorf("%s: image %d scored %v, library %v", how, i, got, want[0][i])
		}
	}
	// One request with all images, for each input type.
	b64 := make([]string, n)
	for i := range n {
		b64[i] = base64.StdEncoding.EncodeToString(pngOf(pix, i))
	}
	for _, body := range [][]byte{
		inferJSON(InputTensor, "FP32", []int64{n, 3, 32, 32}, norm),
		inferJSON(InputPixels, "UINT8", []int64{n, 32, 32, 3}, bytesAsInts(pix)),
		inferJSON(InputImage, "BYTES", []int64{n}, b64),
	} {
		code, resp := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
		if code != 200 {
			t.Fatalf("%d %s", code, resp)
		}
		out, params := restOut(t, resp)
		var s64 []float64
		var s32 []float32
		var msp []float32
		json.Unmarshal(out[OutputScoreFP64], &s64)
		json.Unmarshal(out[OutputScore], &s32)
		json.Unmarshal(out["score_msp"], &msp)
		for i := range n {
			check("REST", i, s64[i])
			if s32[i] != float32(want[0][i]) || msp[i] != float32(want[1][i]) {
				t.Errorf("REST FP32 outputs of image %d: %v %v, want %v %v", i, s32[i], msp[i], float32(want[0][i]), float32(want[1][i]))
			}
		}
		if params["temperature"] != 1000.0 || params["magnitude"] != 0.0014 || params["threshold"] != 0.2500005 || params["threshold_tpr"] != 0.95 || params["detector"] != "odin" {
			t.Errorf("parameters %v", params)
		}
	}
	// Each image alone, all at once from concurrent clients, so that micro-batches mix them
	// in varying ways, over REST, gRPC and /v1/score.
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			body := inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, norm[i*imageSize:(i+1)*imageSize], OutputScoreFP64)
			code, resp := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
			if code != 200 {
				t.Errorf("%d %s", code, resp)
				return
			}
			out, _ := restOut(t, resp)
			var s []float64
			json.Unmarshal(out[OutputScoreFP64], &s)
			check("REST alone", i, s[0])
		}()
		go func() {
			defer wg.Done()
			s, err := grpcScores(ts, norm[i*imageSize:(i+1)*imageSize], 1, false)
			if err != nil {
				t.Error(err)
				return
			}
			check("gRPC alone", i, s[0])
		}()
		go func() {
			defer wg.Done()
			code, resp := ts.call(t, "POST", "/v1/score", "image/png", pngOf(pix, i), false)
			if code != 200 {
				t.Errorf("%d %s", code, resp)
				return
			}
			var r scoreResponse
			json.Unmarshal(resp, &r)
			check("/v1/score", i, r.Results[0].Score)
			if r.Results[0].MSP != want[1][i] || r.Results[0].OOD != (want[0][i] < 0.2500005) {
				t.Errorf("/v1/score image %d: %+v", i, r.Results[0])
			}
		}()
	}
	wg.Wait()
	// gRPC with raw contents, all images in one request.
	s, err := grpcScores(ts, norm, n, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		check("gRPC raw", i, s[i])
	}
}

func bytesAsInts(b []byte) []int {
	out := make([]int, len(b))
	for i, v := range b {
		out[i] = int(v)
	}
	return out
}

func TestScoreMultipart(t *testing.T) {
	m := smallModel(t, nil)
	ts := startServer(t, Options{}, m)
	x, pix := randomImages(3, 9)
	want := libraryScores(t, m, x)
	body, ct := multipartBody(t, pngOf(pix, 0), pngOf(pix, 1), pngOf(pix, 2))
	code, resp := ts.call(t, "POST", "/v1/score", ct, body, false)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, resp)
	}
	var r scoreResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 3 || r.Threshold != 0.2500005 || r.Temperature != 1000 {
		t.Fatalf("%s", resp)
	}
	for i, res := range r.Results {
		if res.Score != want[0][i] || res.MSP != want[1][i] || res.Name != fmt.Sprintf("img%d.png", i) {
			t.Errorf("image %d: %+v, want score %v msp %v", i, res, want[0][i], want[1][i])
		}
	}
}

// multipartBody puts images into a multipart/form-data body as files img0.png, img1.png, ….
func multipartBody(t testing.TB, images ...[]byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i, img := range images {
		p, err := w.CreateFormFile("image", fmt.Sprintf("img%d.png", i))
		if err != nil {
			t.Fatal(err)
		}
		p.Write(img)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// TestDeployConfigParses keeps the example configuration of deploy/models valid.
func TestDeployConfigParses(t *testing.T) {
	cs, err := LoadConfigs("../deploy/models")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Name != "densenet10" || cs[0].Threshold != "../deploy/models/densenet10-odin.json" {
		t.Fatalf("%+v", cs)
	}
}

// TestValidatorBites: the OpenAPI check that every exchange goes through does reject a
// non-conforming response, so its silence in the other tests means something.
func TestValidatorBites(t *testing.T) {
	sp := loadSpec(t)
	req, _ := http.NewRequest("POST", "http://x/v2/models/small/infer", strings.NewReader(`{"inputs":[]}`))
	req.Header.Set("Content-Type", "application/json")
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
	for _, body := range []string{`{"outputs": []}`, `{"model_name": "small", "outputs": [{"name": "x"}]}`} {
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: 200,
			Header: http.Header{"Content-Type": {"application/json"}}}
		rin.SetBodyBytes([]byte(body))
		if openapi3filter.ValidateResponse(context.Background(), rin) == nil {
			t.Errorf("response %s accepted", body)
		}
	}
}
