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
