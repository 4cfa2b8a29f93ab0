package serve

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/odin-ood/odin/serve/oippb"
)

// grpcScores scores n normalised images over gRPC and returns ood_score_fp64, sending typed
// contents or raw bytes.
func grpcScores(ts *testServer, x []float32, n int, raw bool) ([]float64, error) {
	req := &pb.ModelInferRequest{ModelName: "small", Id: "g",
		Inputs:  []*pb.ModelInferRequest_InferInputTensor{{Name: InputTensor, Datatype: "FP32", Shape: []int64{int64(n), 3, 32, 32}}},
		Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: OutputScoreFP64}, {Name: OutputIsOOD}}}
	if raw {
		var b []byte
		for _, v := range x[:n*imageSize] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		req.RawInputContents = [][]byte{b}
	} else {
		req.Inputs[0].Contents = &pb.InferTensorContents{Fp32Contents: x[:n*imageSize]}
	}
	resp, err := ts.grpc.ModelInfer(context.Background(), req)
	if err != nil {
		return nil, err
	}
	if resp.Id != "g" || resp.ModelName != "small" || len(resp.Outputs) != 2 || resp.Outputs[0].Name != OutputScoreFP64 {
		return nil, fmt.Errorf("response %v", resp)
	}
	if p := resp.Parameters["temperature"]; p.GetDoubleParam() != 1000 {
		return nil, fmt.Errorf("parameters %v", resp.Parameters)
	}
	if !raw {
		return resp.Outputs[0].Contents.Fp64Contents, nil
	}
	if len(resp.RawOutputContents) != 2 || len(resp.RawOutputContents[0]) != 8*n {
		return nil, fmt.Errorf("raw outputs %d", len(resp.RawOutputContents))
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = math.Float64frombits(binary.LittleEndian.Uint64(resp.RawOutputContents[0][8*i:]))
	}
	return s, nil
}

func TestGRPCHealthAndMetadata(t *testing.T) {
	ts := startServer(t, Options{}, smallModel(t, nil))
	ctx := context.Background()
	live, err := ts.grpc.ServerLive(ctx, &pb.ServerLiveRequest{})
	if err != nil || !live.Live {
		t.Fatalf("live %v %v", live, err)
	}
	ready, err := ts.grpc.ServerReady(ctx, &pb.ServerReadyRequest{})
	if err != nil || !ready.Ready {
		t.Fatalf("ready %v %v", ready, err)
	}
	mr, err := ts.grpc.ModelReady(ctx, &pb.ModelReadyRequest{Name: "small"})
	if err != nil || !mr.Ready {
		t.Fatalf("model ready %v %v", mr, err)
	}
	sm, err := ts.grpc.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
	if err != nil || sm.Name != "odin" {
		t.Fatalf("server metadata %v %v", sm, err)
	}
	md, err := ts.grpc.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "small", Version: "1"})
	if err != nil || len(md.Inputs) != 3 || md.Outputs[0].Name != OutputScore || md.Properties["detector"] != "odin" {
		t.Fatalf("model metadata %v %v", md, err)
	}
	_, err = ts.grpc.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "nosuch"})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("unknown model: %v", err)
	}
}
