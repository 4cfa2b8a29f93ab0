package serve

import (
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"time"

	"google.golang.org/grpc/status"

	pb "github.com/odin-ood/odin/serve/oippb"
)

// grpcService implements the protocol's GRPCInferenceService on a Server.
type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

// done records a finished RPC and turns an error into its gRPC status.
func (g *grpcService) done(method string, start time.Time, err error) error {
	code := http.StatusOK
	if err != nil {
		ae := classify(err)
		code = ae.status
		err = status.Error(grpcCode(ae.status), ae.msg)
		g.s.log.Info("request failed", "protocol", "grpc", "endpoint", method, "status", code, "error", ae.msg)
	}
	g.s.met.request("grpc", method, code, start)
	return err
}

func (g *grpcService) ServerLive(ctx context.Context, _ *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, g.done("live", time.Now(), nil)
}

func (g *grpcService) ServerReady(ctx context.Context, _ *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: g.s.Ready()}, g.done("ready", time.Now(), nil)
}

func (g *grpcService) ModelReady(ctx context.Context, r *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	start := time.Now()
	if _, err := g.s.model(r.Name, r.Version); err != nil {
		return nil, g.done("model_ready", start, err)
	}
	return &pb.ModelReadyResponse{Ready: g.s.Ready()}, g.done("model_ready", start, nil)
}

func (g *grpcService) ServerMetadata(ctx context.Context, _ *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	return &pb.ServerMetadataResponse{Name: g.s.opt.Name, Version: g.s.opt.Version, Extensions: []string{}}, g.done("server_metadata", time.Now(), nil)
}

func (g *grpcService) ModelMetadata(ctx context.Context, r *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	start := time.Now()
	m, err := g.s.model(r.Name, r.Version)
	if err != nil {
		return nil, g.done("model_metadata", start, err)
	}
	meta := func(ts []tensorMeta) []*pb.ModelMetadataResponse_TensorMetadata {
		var out []*pb.ModelMetadataResponse_TensorMetadata
		for _, t := range ts {
			out = append(out, &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
		}
		return out
	}
	return &pb.ModelMetadataResponse{Name: m.Name, Versions: []string{modelVersion}, Platform: m.platform(),
		Inputs: meta(m.inputsMeta()), Outputs: meta(m.outputsMeta()), Properties: m.properties()}, g.done("model_metadata", start, nil)
}

func (g *grpcService) ModelInfer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	start := time.Now()
	resp, err := g.infer(ctx, r)
	return resp, g.done("infer", start, err)
}

func (g *grpcService) infer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	if !g.s.ready.Load() {
		return nil, errorf(http.StatusServiceUnavailable, "server not ready: models loading")
	}
	m, err := g.s.model(r.ModelName, r.ModelVersion)
	if err != nil {
		return nil, err
	}
	if err := m.busy(); err != nil {
		return nil, err
	}
	raw := len(r.RawInputContents) > 0
	if raw && len(r.RawInputContents) != len(r.Inputs) {
		return nil, badRequest("%d raw_input_contents for %d inputs", len(r.RawInputContents), len(r.Inputs))
	}
	req := &inferRequest{model: m.Name, version: r.ModelVersion, id: r.Id}
	for i, in := range r.Inputs {
		t := tensorIn{name: in.Name, datatype: in.Datatype, shape: in.Shape}
		c := in.Contents
		switch {
		case raw && c != nil:
			return nil, badRequest("input %q has contents and raw_input_contents is set", in.Name)
		case raw:
			t.raw, t.hasRaw = r.RawInputContents[i], true
		case c == nil:
			return nil, badRequest("input %q has no contents", in.Name)
		default:
			t.f32, t.bytes = c.Fp32Contents, c.BytesContents
			if in.Datatype == "UINT8" {
				u8, err := uint8Contents(in.Name, c.UintContents)
				if err != nil {
					return nil, err
				}
				t.u8 = u8
			}
			if t.f32 == nil {
				t.f32 = []float32{}
			}
		}
		req.inputs = append(req.inputs, t)
	}
	if r.Outputs != nil {
		req.outputs = []string{}
		for _, o := range r.Outputs {
			req.outputs = append(req.outputs, o.Name)
		}
	}
	resp, err := m.infer(ctx, req, g.s.opt.Limits)
	if err != nil {
		return nil, err
	}
	return toProto(resp, raw), nil
}

// uint8Contents takes UINT8 values from uint_contents (the protocol's field for 8- to 32-bit
// unsigned types), refusing any above 255.
func uint8Contents(name string, v []uint32) ([]byte, error) {
	out := make([]byte, len(v))
	for i, x := range v {
		if x > 255 {
			return nil, badRequest("input %q: value %d is %d, not a UINT8", name, i, x)
		}
		out[i] = byte(x)
	}
	return out, nil
}

// toProto encodes a response; raw puts the outputs in raw_output_contents (as Triton does,
// and as its client expects) instead of typed contents.
func toProto(r *inferResponse, raw bool) *pb.ModelInferResponse {
	out := &pb.ModelInferResponse{ModelName: r.model, ModelVersion: r.version, Id: r.id, Parameters: map[string]*pb.InferParameter{}}
	for _, p := range r.params {
		if p.isN {
			out.Parameters[p.key] = &pb.InferParameter{ParameterChoice: &pb.InferParameter_DoubleParam{DoubleParam: p.num}}
		} else {
			out.Parameters[p.key] = &pb.InferParameter{ParameterChoice: &pb.InferParameter_StringParam{StringParam: p.str}}
		}
	}
	for _, t := range r.outputs {
		o := &pb.ModelInferResponse_InferOutputTensor{Name: t.name, Datatype: t.datatype, Shape: t.shape}
		if raw {
			out.RawOutputContents = append(out.RawOutputContents, rawBytes(t))
		} else {
			o.Contents = &pb.InferTensorContents{Fp32Contents: t.f32, Fp64Contents: t.f64, BoolContents: t.b, Int64Contents: t.i64}
		}
		out.Outputs = append(out.Outputs, o)
	}
	return out
}

// rawBytes is a tensor's data, little-endian, as raw contents carry it.
func rawBytes(t tensorOut) []byte {
	var b []byte
	switch {
	case t.f32 != nil:
		for _, v := range t.f32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case t.f64 != nil:
		for _, v := range t.f64 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	case t.b != nil:
		for _, v := range t.b {
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case t.i64 != nil:
		for _, v := range t.i64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}
