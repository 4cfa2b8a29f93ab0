package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/odin-ood/odin/serve/oippb"
)

// hugePNG is a valid PNG header declaring w×h pixels, followed by a tiny IDAT: a decompression
// bomb's signature without the bomb.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func tinyPNG(side int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, side, side)))
	return b.Bytes()
}

// TestBadInputREST: each bad request gets its 4xx with the protocol's error object (call
// checks the body), and the next valid request still succeeds.
func TestBadInputREST(t *testing.T) {
	ts := startServer(t, Options{MaxBodyBytes: 8 << 20}, smallModel(t, nil))
	x, pix := randomImages(1, 3)
	corrupt := append(pngOf(pix, 0)[:60], bytes.Repeat([]byte{0xAB}, 200)...)
	b64 := func(b []byte) []string { return []string{base64.StdEncoding.EncodeToString(b)} }
	nan := make([]any, imageSize)
	for i := range nan {
		nan[i] = 0.5
	}
	nan[17] = "NaN"
	cases := []struct {
		name, path, ct string
		body           []byte
		code           int
		msg            string
		invalid        bool // the request breaks the protocol's schema itself
	}{
		{"malformed JSON", "/v2/models/small/infer", "application/json", []byte(`{"inputs": [{"name": "input",`), 400, "malformed JSON", true},
		{"not an object", "/v2/models/small/infer", "application/json", []byte(`[1,2]`), 400, "malformed JSON", true},
		{"unknown model", "/v2/models/nosuch/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, x), 404, "unknown model", false},
		{"unknown version", "/v2/models/small/versions/7/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, x), 404, "no version", false},
		{"wrong datatype", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "INT32", []int64{1, 3, 32, 32}, x), 400, "datatype", false},
		{"shape vs data length", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{2, 3, 32, 32}, x), 400, "values for shape", false},
		{"wrong shape", "/v2/models/small/infer", "application/json", inferJSON(InputPixels, "UINT8", []int64{1, 3, 32, 32}, bytesAsInts(pix)), 400, "shape", false},
		{"NaN pixel", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, nan), 400, "string among FP32", false},
		{"pixel over 255", "/v2/models/small/infer", "application/json", inferJSON(InputPixels, "UINT8", []int64{1, 32, 32, 3}, append(bytesAsInts(pix[1:]), 256)), 400, "not a UINT8", false},
		{"unknown output", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, x, "nosuch"), 400, "unknown output", false},
		{"unknown input", "/v2/models/small/infer", "application/json", inferJSON("x", "FP32", []int64{1, 3, 32, 32}, x), 400, "unknown input", false},
		{"corrupt PNG", "/v2/models/small/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{1}, b64(corrupt)), 400, "image 0", false},
		{"not base64", "/v2/models/small/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{1}, []string{"%%%"}), 400, "base64", false},
		{"PNG of 100000×100000", "/v2/models/small/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{1}, b64(hugePNG(100000, 100000))), 413, "100000×100000", false},
		{"1×1 image", "/v2/models/small/infer", "application/json", inferJSON(InputImage, "BYTES", []int64{1}, b64(tinyPNG(1))), 400, "1×1", false},
		{"100 MB body", "/v2/models/small/infer", "application/json", bytes.Repeat([]byte(" "), 100<<20), 413, "larger than", true},
		{"score: corrupt PNG", "/v1/score", "image/png", corrupt, 400, "image 0", false},
		{"score: 100000×100000", "/v1/score", "image/png", hugePNG(100000, 100000), 413, "100000×100000", false},
		{"score: 1×1", "/v1/score", "image/png", tinyPNG(1), 400, "1×1", false},
		{"score: 100 MB body", "/v1/score", "image/png", bytes.Repeat([]byte{0}, 100<<20), 413, "larger than", false},
		{"score: not an image type", "/v1/score", "text/plain", []byte("hello"), 415, "Content-Type", false},
		{"unknown path", "/v3/nothing", "application/json", nil, 404, "no endpoint", true},
	}
	valid := inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, normalised(ts, x), OutputScore)
	for _, c := range cases {
		code, body := ts.call(t, "POST", c.path, c.ct, c.body, c.invalid)
		if code != c.code || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, body, c.code, c.msg)
		}
		if code, body := ts.call(t, "POST", "/v2/models/small/infer", "application/json", valid, false); code != 200 {
			t.Fatalf("after %s: valid request got %d %s", c.name, code, body)
		}
	}
}

func normalised(ts *testServer, x []float32) []float32 {
	m := ts.models["small"]
	out := make([]float32, len(x))
	m.Net.Normalize(out, x, len(x)/imageSize)
	return out
}

// TestSlowClient: a client that never finishes its headers is cut off at the header timeout,
// and meanwhile others are served.
func TestSlowClient(t *testing.T) {
	ts := startServer(t, Options{ReadHeaderTimeout: 300 * time.Millisecond}, smallModel(t, nil))
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "POST /v2/models/small/infer HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
	x, _ := randomImages(1, 4)
	valid := inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, normalised(ts, x), OutputScore)
	if code, body := ts.call(t, "POST", "/v2/models/small/infer", "application/json", valid, false); code != 200 {
		t.Fatalf("valid request while a client stalls: %d %s", code, body)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(conn)
	if err != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("stalled connection not closed by the server: %v after %v", err, time.Since(start))
	}
	if len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 408") {
		t.Errorf("stalled client got %q", rest)
	}
	if code, _ := ts.call(t, "POST", "/v2/models/small/infer", "application/json", valid, false); code != 200 {
		t.Fatalf("valid request after the stalled client: %d", code)
	}
}

func TestBadInputGRPC(t *testing.T) {
	ts := startServer(t, Options{}, smallModel(t, nil))
	x, _ := randomImages(1, 5)
	x = normalised(ts, x)
	nan := append([]float32(nil), x...)
	nan[100] = float32(math.NaN())
	in := func(name, dt string, shape []int64, c *pb.InferTensorContents) *pb.ModelInferRequest {
		return &pb.ModelInferRequest{ModelName: "small", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: name, Datatype: dt, Shape: shape, Contents: c}}}
	}
	unknown := in(InputTensor, "FP32", []int64{1, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: x})
	unknown.ModelName = "nosuch"
	raw := in(InputTensor, "FP32", []int64{1, 3, 32, 32}, nil)
	raw.RawInputContents = [][]byte{make([]byte, 100)}
	cases := []struct {
		name string
		req  *pb.ModelInferRequest
		code codes.Code
	}{
		{"unknown model", unknown, codes.NotFound},
		{"wrong datatype", in(InputTensor, "FP64", []int64{1, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: x}), codes.InvalidArgument},
		{"shape vs data length", in(InputTensor, "FP32", []int64{2, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: x}), codes.InvalidArgument},
		{"raw length", raw, codes.InvalidArgument},
		{"NaN pixel", in(InputTensor, "FP32", []int64{1, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: nan}), codes.InvalidArgument},
		{"corrupt PNG", in(InputImage, "BYTES", []int64{1}, &pb.InferTensorContents{BytesContents: [][]byte{[]byte("\x89PNG\r\n\x1a\nxx")}}), codes.InvalidArgument},
		{"PNG of 100000×100000", in(InputImage, "BYTES", []int64{1}, &pb.InferTensorContents{BytesContents: [][]byte{hugePNG(100000, 100000)}}), codes.ResourceExhausted},
		{"1×1 image", in(InputImage, "BYTES", []int64{1}, &pb.InferTensorContents{BytesContents: [][]byte{tinyPNG(1)}}), codes.InvalidArgument},
		{"no contents", in(InputTensor, "FP32", []int64{1, 3, 32, 32}, nil), codes.InvalidArgument},
	}
	valid := in(InputTensor, "FP32", []int64{1, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: x})
	for _, c := range cases {
		_, err := ts.grpc.ModelInfer(context.Background(), c.req)
		if status.Code(err) != c.code || status.Convert(err).Message() == "" {
			t.Errorf("%s: %v, want %v", c.name, err, c.code)
		}
		if _, err := ts.grpc.ModelInfer(context.Background(), valid); err != nil {
			t.Fatalf("after %s: %v", c.name, err)
		}
	}
	// A message over the size limit is refused by gRPC itself.
	big := in(InputTensor, "FP32", []int64{1, 3, 32, 32}, &pb.InferTensorContents{Fp32Contents: make([]float32, 10<<20)})
	if _, err := ts.grpc.ModelInfer(context.Background(), big); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("40 MB message: %v", err)
	}
	if _, err := ts.grpc.ModelInfer(context.Background(), valid); err != nil {
		t.Fatal(err)
	}
}
