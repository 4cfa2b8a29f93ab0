#!/bin/sh
# Regenerates the Go code of open_inference_grpc.proto (the Open Inference Protocol's gRPC
# service, copied unchanged from the KServe specification). Run through `go generate`.
# Needs protoc (Debian: apt-get install -y protobuf-compiler); the two Go plugins are installed
# at pinned versions into a temporary GOBIN so that the output does not depend on what is
# installed on the machine.
set -eu
PROTOC_GEN_GO=v1.36.12      # google.golang.org/protobuf, the runtime version in go.mod
PROTOC_GEN_GO_GRPC=v1.5.1   # google.golang.org/grpc/cmd/protoc-gen-go-grpc
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO
GOBIN=$bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC
pkg='github.com/odin-ood/odin/serve/oippb;oippb'
PATH=$bin:$PATH protoc -I . \
	--go_out=. --go_opt=paths=source_relative --go_opt=Mopen_inference_grpc.proto="$pkg" \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mopen_inference_grpc.proto="$pkg" \
	open_inference_grpc.proto
