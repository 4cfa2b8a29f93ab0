package serve_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/odin-ood/odin/serve"
)

// A model's configuration, as one file of an `odin serve --models DIR` folder.
func ExampleParseConfig() {
	c, err := serve.ParseConfig([]byte(`{
		"name": "densenet10",
		"checkpoint": "densenet10.pth",
		"threshold": "densenet10-odin.json",
		"methods": "msp,energy",
		"resize": "bilinear", "antialias": true,
		"max_batch": 16, "max_queue_delay": "2ms", "queue": 128
	}`), "densenet10.json", "/models")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Name, c.Checkpoint, c.Threshold, c.MaxBatch, c.MaxQueueDelay)
	// Output: densenet10 /models/densenet10.pth /models/densenet10-odin.json 16 2ms
}

// A torchvision ImageNet classifier exported to ONNX, served at 3×224×224: encoded images of any
// size are resized (shorter side 256), centre-cropped to 224 and normalised; fields left out of
// "preprocess" take ImageNet's values.
func ExampleParseConfig_preprocess() {
	c, err := serve.ParseConfig([]byte(`{
		"name": "resnet50",
		"onnx": "resnet50.onnx",
		"threshold": "resnet50-odin.json",
		"preprocess": {"resize": 256, "crop": 224},
		"max_batch": 4, "max_queue_bytes": 536870912
	}`), "resnet50.json", "/models")
	if err != nil {
		log.Fatal(err)
	}
	p := c.Preprocess
	fmt.Println(c.ONNX, p.Resize, p.Crop, p.Interpolation, p.Mean, p.Std, c.MaxQueueBytes>>20, "MiB")
	// Output: /models/resnet50.onnx 256 224 bilinear [0.485 0.456 0.406] [0.229 0.224 0.225] 512 MiB
}

// Serving one model until SIGTERM, as odin serve does.
func Example_serve() {
	m, err := serve.LoadModel(serve.ModelConfig{Name: "densenet10", Checkpoint: "data/models/densenet10.pth",
		Threshold: "densenet10-odin.json", Resize: "bilinear", Antialias: true}, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := serve.New([]*serve.Model{m}, serve.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	httpLn, _ := net.Listen("tcp", ":8080")
	grpcLn, _ := net.Listen("tcp", ":8081")
	go func() {
		if err := srv.Start(ctx); err != nil { // self-test, then ready
			log.Print(err)
		}
	}()
	if err := srv.Serve(ctx, httpLn, grpcLn); err != nil {
		log.Fatal(err)
	}
}
