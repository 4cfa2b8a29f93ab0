package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"
	"google.golang.org/grpc"

	"github.com/odin-ood/odin/serve/oippb"
)

// Options are the server's limits and settings; zero values take the defaults given.
type Options struct {
	// Name and Version are what the server metadata reports (default "odin", "dev").
	Name, Version string
	Limits        Limits
	// MaxBodyBytes bounds a request body (default 32 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxConns bounds the open HTTP connections (default 1024); others wait to be accepted.
	MaxConns int
	// HTTP timeouts: for the headers (default 5s), the whole request (30s), the response (60s),
	// and idle keep-alive connections (120s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request headers (default 64 KiB).
	MaxHeaderBytes int
	// DrainDelay is how long readiness reports 503 after shutdown begins while requests are
	// still accepted, so that a load balancer stops sending any (default 0).
	DrainDelay time.Duration
	// ShutdownTimeout bounds how long shutdown waits for requests in flight (default 30s).
	ShutdownTimeout time.Duration
	// Logger receives structured logs (default: discarded).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 5*time.Second)
	def(&o.ReadTimeout, 30*time.Second)
	def(&o.WriteTimeout, 60*time.Second)
	def(&o.IdleTimeout, 120*time.Second)
	def(&o.ShutdownTimeout, 30*time.Second)
	if o.Name == "" {
		o.Name = "odin"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 32 << 20
	}
	if o.MaxConns == 0 {
		o.MaxConns = 1024
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// Server serves models over the Open Inference Protocol (REST and gRPC) and /v1/score.
type Server struct {
	opt      Options
	models   map[string]*Model
	order    []string
	met      *metrics
	log      *slog.Logger
	ready    atomic.Bool
	draining atomic.Bool
}

// New makes a server for the models and starts their batchers. It is not ready until Start.
func New(ms []*Model, opt Options) (*Server, error) {
	if len(ms) == 0 {
		return nil, errors.New("no model to serve")
	}
	opt = opt.withDefaults()
	s := &Server{opt: opt, models: map[string]*Model{}, met: newMetrics(), log: opt.Logger}
	for _, m := range ms {
		if _, dup := s.models[m.Name]; dup {
			return nil, fmt.Errorf("model %s given twice", m.Name)
		}
		s.models[m.Name] = m
		s.order = append(s.order, m.Name)
		s.met.addModel(m)
		m.start(s.met)
	}
	return s, nil
}

// Start runs every model's self-test and then reports the server ready.
func (s *Server) Start(ctx context.Context) error {
	for _, name := range s.order {
		if err := s.models[name].selfTest(ctx); err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		s.log.Info("model ready", "model", name, "network", s.models[name].Net.Name, "threshold", s.models[name].Threshold.Delta)
	}
	s.ready.Store(true)
	return nil
}

// Ready reports what readiness probes see: started and not shutting down. Inference requests
// are taken from Start until the listeners close, including during the drain delay, when
// readiness already reports 503 so that load balancers stop sending new ones.
func (s *Server) Ready() bool { return s.ready.Load() && !s.draining.Load() }

// Close stops the batchers after they have finished every queued request.
func (s *Server) Close() {
	s.draining.Store(true)
	for _, name := range s.order {
		if b := s.models[name].b; b != nil {
			b.close()
		}
	}
}

// GRPCServer returns a gRPC server with the inference service registered.
func (s *Server) GRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(int(s.opt.MaxBodyBytes))}, opts...)
	g := grpc.NewServer(opts...)
	oippb.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
	return g
}

// Serve answers HTTP on httpLn and gRPC on grpcLn (either may be nil) until ctx ends, then shuts
// down gracefully: readiness turns 503, and after DrainDelay no new connection or request is
// taken, requests queued and in flight are answered, and the batchers stop. It returns nil
// after a clean shutdown.
func (s *Server) Serve(ctx context.Context, httpLn, grpcLn net.Listener) error {
	errc := make(chan error, 2)
	hs := &http.Server{
		Handler: s.Handler(), ReadHeaderTimeout: s.opt.ReadHeaderTimeout, ReadTimeout: s.opt.ReadTimeout,
		WriteTimeout: s.opt.WriteTimeout, IdleTimeout: s.opt.IdleTimeout, MaxHeaderBytes: s.opt.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var gs *grpc.Server
	if httpLn != nil {
		go func() { errc <- hs.Serve(netutil.LimitListener(httpLn, s.opt.MaxConns)) }()
		s.log.Info("serving REST", "addr", httpLn.Addr().String())
	}
	if grpcLn != nil {
		gs = s.GRPCServer()
		go func() { errc <- gs.Serve(grpcLn) }()
		s.log.Info("serving gRPC", "addr", grpcLn.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		s.Close()
		return err
	}
	s.log.Info("shutting down", "drain_delay", s.opt.DrainDelay.String())
	s.draining.Store(true)
	time.Sleep(s.opt.DrainDelay)
	sctx, cancel := context.WithTimeout(context.Background(), s.opt.ShutdownTimeout)
	defer cancel()
	var err error
	if httpLn != nil {
		err = hs.Shutdown(sctx)
	}
	if gs != nil {
		done := make(chan struct{})
		go func() { gs.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-sctx.Done():
			gs.Stop()
			err = errors.Join(err, errors.New("gRPC requests still running at the shutdown timeout"))
		}
	}
	s.Close()
	s.log.Info("stopped")
	return err
}

// model returns the named model, or a 404 error naming the served ones.
func (s *Server) model(name, version string) (*Model, error) {
	m, ok := s.models[name]
	if !ok {
		return nil, errorf(http.StatusNotFound, "unknown model %q (served: %s)", name, joinQuoted(s.order))
	}
	if version != "" && version != modelVersion {
		return nil, errorf(http.StatusNotFound, "model %s has no version %q (versions: %s)", name, version, modelVersion)
	}
	return m, nil
}

// modelVersion is the one version every model has.
const modelVersion = "1"
