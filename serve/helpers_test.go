package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/odin-ood/odin/decision"
	pb "github.com/odin-ood/odin/serve/oippb"
)

// smallCheckpoint is a DenseNet-BC-22 (k=4) with random weights, shared with package models'
// tests: fast enough to serve in every test.
const smallCheckpoint = "../models/testdata/densenet-22-4.pth"

// writeThreshold writes a threshold file for the checkpoint with ODIN's defaults and δ, and
// returns its path.
func writeThreshold(t testing.TB, checkpoint string, delta float64) string {
	t.Helper()
	return writeThresholdWith(t, checkpoint, delta, "")
}

// writeThresholdWith is writeThreshold for images prepared with preprocess (as threshold files
// record it, "" for the network's own).
func writeThresholdWith(t testing.TB, checkpoint string, delta float64, preprocess string) string {
	t.Helper()
	digest, err := decision.Digest(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	th := &decision.Threshold{Method: "odin", Temperature: 1000, Magnitude: 0.0014, Delta: delta, TPR: 0.95, Accepted: 0.95,
		NN: filepath.Base(checkpoint), Network: "test", Checkpoint: digest, InDataset: "cifar10", First: 0, Count: 1000, Preprocess: preprocess}
	path := filepath.Join(t.TempDir(), "threshold.json")
	if err := th.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// smallModel loads the small network as model "small" with extra detectors msp and energy;
// edit changes its configuration first.
func smallModel(t testing.TB, edit func(*ModelConfig)) *Model {
	t.Helper()
	c := ModelConfig{Name: "small", Checkpoint: smallCheckpoint, Threshold: writeThreshold(t, smallCheckpoint, 0.2500005),
		Methods: "msp,energy", Resize: "bilinear", Antialias: true, MaxBatch: 8, Workers: 2}
	if edit != nil {
		edit(&c)
	}
	m, err := LoadModel(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testServer is a started server on loopback listeners.
type testServer struct {
	*Server
	url    string
	conn   *grpc.ClientConn
	grpc   pb.GRPCInferenceServiceClient
	cancel context.CancelFunc
	served chan error
}

// startServer serves the models until the test ends.
func startServer(t testing.TB, opt Options, ms ...*Model) *testServer {
	t.Helper()
	s, err := New(ms, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: s, url: "http://" + hl.Addr().String(), cancel: cancel, served: make(chan error, 1)}
	go func() { ts.served <- s.Serve(ctx, hl, gl) }()
	ts.conn, err = grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ts.grpc = pb.NewGRPCInferenceServiceClient(ts.conn)
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop shuts the server down (once) and checks that it stopped cleanly.
func (ts *testServer) stop(t testing.TB) {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	ts.conn.Close()
	select {
	case err := <-ts.served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("server did not stop")
	}
}

// oip is the protocol's OpenAPI description, with its paths made routable: the file writes path
// parameters as ${NAME} and gives only the versioned form of paths whose version part
// inference_rest.md says is optional, so the test adds the unversioned form of each.
type oip struct {
	doc    *openapi3.T
	router routers.Router
	errors *openapi3.Schema
}

var (
	specOnce sync.Once
	spec     *oip
	specErr  error
)

func loadSpec(t testing.TB) *oip {
	t.Helper()
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile("testdata/open_inference_rest.yaml")
		if err != nil {
			specErr = err
			return
		}
		paths := openapi3.NewPaths()
		for k, item := range doc.Paths.Map() {
			k = strings.NewReplacer("${", "{").Replace(k)
			paths.Set(k, item)
			if short := strings.Replace(k, "/versions/{MODEL_VERSION}", "", 1); short != k {
				paths.Set(short, cloneItem(item, "-unversioned", "MODEL_VERSION"))
			}
			if k == "/v2/" {
				paths.Set("/v2", cloneItem(item, "-no-slash", ""))
			}
		}
		doc.Paths = paths
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			specErr = err
			return
		}
		spec = &oip{doc: doc, router: r, errors: doc.Components.Schemas["inference_error_response"].Value}
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// cloneItem copies a path item with its operation ids suffixed (ids must be unique) and the
// path parameter drop removed.
func cloneItem(item *openapi3.PathItem, suffix, drop string) *openapi3.PathItem {
	c := *item
	c.Parameters = nil
	for _, p := range item.Parameters {
		if p.Value.Name != drop {
			c.Parameters = append(c.Parameters, p)
		}
	}
	for _, op := range []**openapi3.Operation{&c.Get, &c.Post} {
		if *op != nil {
			o := **op
			o.OperationID += suffix
			*op = &o
		}
	}
	return &c
}

// call sends a request to the server and returns the status and body. Requests the spec
// describes are validated against it unless invalidRequest (a test of bad input); the response
// is always validated: against the spec when it describes the status, and every error must be
// the protocol's error object {"error": "..."}.
func (ts *testServer) call(t testing.TB, method, path, contentType string, body []byte, invalidRequest bool) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	validateExchange(t, req, body, resp, out, invalidRequest)
	return resp.StatusCode, out
}

func validateExchange(t testing.TB, req *http.Request, body []byte, resp *http.Response, out []byte, invalidRequest bool) {
	t.Helper()
	sp := loadSpec(t)
	if resp.StatusCode >= 400 {
		var e map[string]any
		if err := json.Unmarshal(out, &e); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, out)
		}
		if err := sp.errors.VisitJSON(e); err != nil {
			t.Fatalf("%s %s: error body %s: %v", req.Method, req.URL.Path, out, err)
		}
		if msg, ok := e["error"].(string); !ok || msg == "" {
			t.Fatalf("%s %s: %d without an error message: %s", req.Method, req.URL.Path, resp.StatusCode, out)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: error with Content-Type %q", req.Method, req.URL.Path, ct)
		}
	}
	vreq, _ := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(body))
	vreq.Header = req.Header.Clone()
	route, params, err := sp.router.FindRoute(vreq)
	if err != nil {
		if !strings.HasPrefix(req.URL.Path, "/v2") || invalidRequest {
			return // /v1/score, /metrics and unknown paths are not the protocol's
		}
		t.Fatalf("%s %s: not in the protocol's paths: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: false}}
	if !invalidRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Fatalf("%s %s: request does not conform: %v", req.Method, req.URL.Path, err)
		}
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header}
	rin.SetBodyBytes(out)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		t.Fatalf("%s %s: response %d does not conform: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, out)
	}
}

// inferJSON is a REST inference request with one input.
func inferJSON(name, datatype string, shape []int64, data any, outputs ...string) []byte {
	req := map[string]any{"id": "t1", "inputs": []map[string]any{{"name": name, "datatype": datatype, "shape": shape, "data": data}}}
	if outputs != nil {
		var o []map[string]string
		for _, n := range outputs {
			o = append(o, map[string]string{"name": n})
		}
		req["outputs"] = o
	}
	b, _ := json.Marshal(req)
	return b
}

// restOut decodes the outputs of a REST inference response by name.
func restOut(t testing.TB, body []byte) (map[string]json.RawMessage, map[string]any) {
	t.Helper()
	var r struct {
		Outputs []struct {
			Name string          `json:"name"`
			Data json.RawMessage `json:"data"`
		} `json:"outputs"`
		Parameters map[string]any `json:"parameters"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	out := map[string]json.RawMessage{}
	for _, o := range r.Outputs {
		out[o.Name] = o.Data
	}
	return out, r.Parameters
}

// randomImages returns n images of random 8-bit pixels in [0,1], channel-major.
func randomImages(n int, seed uint64) ([]float32, []byte) {
	r := rand.New(rand.NewPCG(seed, 2))
	pix := make([]byte, n*imageSize) // HWC
	for i := range pix {
		pix[i] = byte(r.IntN(256))
	}
	x := make([]float32, n*imageSize)
	hwcToCHW(x, pix, n, 3, 1024)
	return x, pix
}

var errStop = errors.New("stop")
