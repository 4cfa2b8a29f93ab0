package serve

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/internal/datadir"
	pb "github.com/odin-ood/odin/serve/oippb"
)

// TestDenseNet10SameAsEval serves the seed's densenet10 and checks that CIFAR-10 test images
// sent as raw pixels (REST), as PNG (/v1/score) and as PNG bytes (gRPC), one by one and all
// together, score exactly what odin eval's scorer gives them with the same T and ε.
func TestDenseNet10SameAsEval(t *testing.T) {
	ckpt := datadir.ForTest(t, "models/densenet10.pth")
	set := datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin")
	ds, err := dataset.OpenCIFAR10(set)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(ModelConfig{Name: "densenet10", Checkpoint: ckpt, Threshold: writeThreshold(t, ckpt, 0.1002),
		MaxBatch: 8, Workers: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Options{}, m)
	const first, n = 1000, 6
	want, err := experiment.NewScorer(m.Net, m.Detectors, 2, 4).Score(context.Background(), ds, first, n, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*imageSize)
	pix := make([]byte, n*imageSize) // HWC
	for i := range n {
		img := x[i*imageSize : (i+1)*imageSize]
		if _, err := ds.Image(first+i, img); err != nil {
			t.Fatal(err)
		}
		for p := range 1024 {
			for c := range 3 {
				pix[i*imageSize+3*p+c] = byte(math.Round(float64(img[c*1024+p]) * 255))
			}
		}
	}
	check := func(how string, i int, got float64) {
		t.Helper()
		if math.Float64bits(got) != math.Float64bits(want[0][i]) {
			t.Errorf("%s: image %d scored %v, odin eval %v", how, first+i, got, want[0][i])
		}
	}
	code, body := ts.call(t, "POST", "/v2/models/densenet10/infer", "application/json",
		inferJSON(InputPixels, "UINT8", []int64{n, 32, 32, 3}, bytesAsInts(pix), OutputScoreFP64), false)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	out, _ := restOut(t, body)
	var s []float64
	json.Unmarshal(out[OutputScoreFP64], &s)
	for i := range n {
		check("REST pixels, all together", i, s[i])
		code, body := ts.call(t, "POST", "/v1/score", "image/png", pngOf(pix, i), false)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		var r scoreResponse
		json.Unmarshal(body, &r)
		check("/v1/score, alone", i, r.Results[0].Score)
		resp, err := ts.grpc.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "densenet10",
			Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: InputImage, Datatype: "BYTES", Shape: []int64{1},
				Contents: &pb.InferTensorContents{BytesContents: [][]byte{pngOf(pix, i)}}}},
			Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: OutputScoreFP64}}})
		if err != nil {
			t.Fatal(err)
		}
		check("gRPC PNG, alone", i, resp.Outputs[0].Contents.Fp64Contents[0])
	}
	if filepath.Base(ckpt) != "densenet10.pth" {
		t.Fatal(ckpt)
	}
}
