// Package oippb is the Go code generated from open_inference_grpc.proto, the gRPC service of the
// Open Inference Protocol (KServe "V2", also spoken by NVIDIA Triton and Seldon MLServer): the
// messages of package inference and the GRPCInferenceService client and server.
//
// The .proto file is the specification's, unchanged, under its Apache 2.0 licence
// (LICENSE.open-inference-protocol). The generated files are committed; gen.sh remakes them with
// pinned versions of protoc-gen-go and protoc-gen-go-grpc.
package oippb

//go:generate ./gen.sh
