# odin serve as a container: a static binary (CGO_ENABLED=0) on a distroless base, run as a
# non-root user. Models are not baked in: mount a folder of model configurations (one JSON file
# per model, see docs/serving.md) with their checkpoints and threshold files at /models.
#
#   docker build -t odin .
#   docker run -p 8080:8080 -p 8081:8081 -v $PWD/models:/models:ro odin
#
# Stage 1: build.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/odin ./cmd/odin

# Stage 2: run. distroless/static has CA certificates and tzdata, no shell; user 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/odin /usr/local/bin/odin
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/odin", "serve"]
CMD ["--models", "/models", "--addr", ":8080", "--grpc-addr", ":8081", "--log-format", "json"]
