package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/onnx"
	"github.com/odin-ood/odin/serve"
)

func init() {
	register("serve", "serve models over the Open Inference Protocol (REST, gRPC) with ODIN's decision", cmdServe)
}

type serveFlags struct {
	nn, arch, data, threshold, methods, stats, name, resize, modelsDir string
	antialias                                                          bool
	addr, grpcAddr, logFormat, logLevel                                string
	workers, batch, queue, maxConns, maxImages, maxPixels              int
	maxBody                                                            int64
	delay, drain, shutdown                                             time.Duration
	prep                                                               prepFlags // --preprocess, --mean, … for --nn
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.nn, "nn", "", "network to serve: one of "+joinNames(models.KnownNames())+", or a checkpoint file")
	fs.StringVar(&f.arch, "arch", "", "architecture of a checkpoint file (default: inferred)")
	fs.StringVar(&f.data, "data", "", "data folder where --nn names are looked up (default $ODIN_DATA, else ./data)")
	fs.StringVar(&f.threshold, "threshold", "", "threshold file made by odin calibrate for --nn (T, ε and δ)")
	fs.StringVar(&f.methods, "method", "odin", "detectors scored, comma-separated; odin (from --threshold) always, others add score_<method> outputs")
	fs.StringVar(&f.stats, "stats", "", "statistics file of odin fit, for fitted detectors in --method")
	fs.StringVar(&f.name, "name", "", "model name in URLs (default: --nn's name)")
	fs.StringVar(&f.resize, "resize", "bilinear", "filter resizing encoded images that are not 32×32: nearest, box, bilinear, bicubic, lanczos, or none to refuse them")
	fs.BoolVar(&f.antialias, "antialias", true, "widen the resize kernel when shrinking, as PIL does")
	fs.StringVar(&f.modelsDir, "models", "", "folder of model configurations (one JSON file per model) instead of --nn")
	fs.StringVar(&f.addr, "addr", ":8080", "REST address")
	fs.StringVar(&f.grpcAddr, "grpc-addr", ":8081", "gRPC address (empty: no gRPC)")
	fs.IntVar(&f.workers, "workers", 0, "micro-batches computed at once per model (default: the number of CPUs)")
	fs.IntVar(&f.batch, "max-batch", 8, "images per micro-batch")
	fs.DurationVar(&f.delay, "max-queue-delay", time.Millisecond, "how long a request waits for others to share its micro-batch")
	fs.IntVar(&f.queue, "queue", 256, "requests that may wait per model; more get 429 / RESOURCE_EXHAUSTED")
	fs.Int64Var(&f.maxBody, "max-body", 32<<20, "largest request body in bytes (413 above)")
	fs.IntVar(&f.maxImages, "max-images", 256, "most images per request")
	fs.IntVar(&f.maxPixels, "max-pixels", 4096*4096, "most pixels an encoded image may declare")
	fs.IntVar(&f.maxConns, "max-conns", 1024, "most open HTTP connections")
	fs.DurationVar(&f.drain, "drain-delay", 0, "on SIGTERM, how long readiness reports 503 before new requests are refused")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long requests in flight may take to finish")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.prep.registerExcept(fs, "resize") // --resize is the 32×32 filter here; resize via --preprocess
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve")
	var f serveFlags
	f.register(fs)
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	configs, err := f.configs()
	if err != nil {
		return err
	}
	var ms []*serve.Model
	for _, c := range configs {
		m, err := serve.LoadModel(c, onnxLoader)
		if err != nil {
			return adviseServe(err)
		}
		ms = append(ms, m)
	}
	srv, err := serve.New(ms, serve.Options{
		Version: "dev", MaxBodyBytes: f.maxBody, MaxConns: f.maxConns, DrainDelay: f.drain, ShutdownTimeout: f.shutdown,
		Limits: serve.Limits{MaxImages: f.maxImages, MaxPixels: f.maxPixels}, Logger: log,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	httpLn, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Close()
		return err
	}
	var grpcLn net.Listener
	if f.grpcAddr != "" {
		if grpcLn, err = net.Listen("tcp", f.grpcAddr); err != nil {
			httpLn.Close()
			srv.Close()
			return err
		}
	}
	// Liveness answers while the self-test runs; readiness only after it passed.
	go func() {
		if err := srv.Start(ctx); err != nil {
			log.Error("self-test failed: the server stays unready", "error", err)
		}
	}()
	return srv.Serve(ctx, httpLn, grpcLn)
}

// configs returns the model configurations of --models, or the one of --nn.
func (f *serveFlags) configs() ([]serve.ModelConfig, error) {
	pre, err := f.prep.preprocess()
	if err != nil {
		return nil, err
	}
	shape, err := f.prep.InputShape()
	if err != nil {
		return nil, usageError("%v", err)
	}
	if f.modelsDir != "" {
		if f.nn != "" || f.threshold != "" {
			return nil, usageError("give either --models or --nn with --threshold")
		}
		if pre != nil {
			return nil, usageError("the preprocessing flags apply to --nn; with --models give \"preprocess\" in each model's file")
		}
		if shape != nil || f.prep.Features() != "" {
			return nil, usageError("--features and --input-shape apply to --nn; with --models give \"features\" and \"input_shape\" in each model's file")
		}
		cs, err := serve.LoadConfigs(f.modelsDir)
		if err != nil {
			return nil, err
		}
		for i := range cs {
			f.batching(&cs[i])
		}
		return cs, nil
	}
	if f.nn == "" || f.threshold == "" {
		return nil, usageError("give --nn and --threshold (or --models DIR)")
	}
	path, known, err := models.Resolve(f.nn, datadir.Data(f.data))
	if err != nil {
		return nil, err
	}
	name := f.name
	if name == "" {
		name = strings.TrimSuffix(known.Name, filepath.Ext(known.Name))
	}
	c := serve.ModelConfig{Name: name, Checkpoint: path, Arch: f.arch, Threshold: f.threshold, Methods: f.methods, Stats: f.stats,
		Preprocess: pre, Features: f.prep.Features(), InputShape: shape}
	if f.resize != "none" {
		c.Resize, c.Antialias = f.resize, f.antialias
	}
	f.batching(&c)
	return []serve.ModelConfig{c}, nil
}

// batching applies the batching flags to a configuration that does not set them itself.
func (f *serveFlags) batching(c *serve.ModelConfig) {
	if c.MaxBatch == 0 {
		c.MaxBatch = f.batch
	}
	if c.Workers == 0 {
		c.Workers = f.workers
	}
	if c.Queue == 0 {
		c.Queue = f.queue
	}
	if c.MaxQueueDelay == 0 {
		c.MaxQueueDelay = serve.Duration(f.delay)
	}
}

func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageError("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	opt := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opt)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opt)), nil
	}
	return nil, usageError("--log-format %q: want text or json", f.logFormat)
}

// onnxLoader loads the ONNX files of the configurations, with the configuration's feature tap
// and input shape and the importer's ImageNet normalisation (which "preprocess" replaces).
func onnxLoader(path string, opt serve.ONNXOptions) (*models.Model, error) {
	m, _, err := onnx.Load(path, onnx.Options{Features: opt.Features, InputShape: opt.InputShape})
	return m, err
}
