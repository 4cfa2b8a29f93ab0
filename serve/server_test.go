package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: when shutdown begins, readiness turns 503 at once while requests are
// still taken for the drain delay; requests queued and in flight are all answered, new connections are refused afterwards, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	m := smallModel(t, func(c *ModelConfig) { c.Workers, c.MaxBatch = 1, 2 })
	ts := startServer(t, Options{DrainDelay: 300 * time.Millisecond}, m)
	det := &counting{Detector: m.Detectors[0], gate: make(chan struct{})}
	m.b.dets[0] = det
	x, _ := randomImages(1, 2)
	body := inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, normalised(ts, x), OutputScore)
	const n = 6
	var wg sync.WaitGroup
	codes := make(chan int, n+1)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
			codes <- code
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(m.b.queue) < n-2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ts.cancel() // what SIGTERM does in odin serve
	ts.cancel = nil
	time.Sleep(50 * time.Millisecond)
	if code, _ := ts.call(t, "GET", "/v2/health/ready", "", nil, false); code != http.StatusServiceUnavailable {
		t.Errorf("readiness while draining: %d", code)
	}
	// During the drain delay requests are still taken (load balancers may still send some).
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, _ := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
		codes <- code
	}()
	time.Sleep(50 * time.Millisecond)
	time.Sleep(350 * time.Millisecond) // past the drain delay: the listener is closed
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(ts.url, "http://"), time.Second); err == nil {
		t.Error("new connection accepted after the drain delay")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("dial after shutdown: %v", err)
	}
	close(det.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("request accepted before shutdown answered %d", c)
		}
	}
	select {
	case err := <-ts.served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if got := det.images.Load(); got != n+1 {
		t.Errorf("%d images computed, want %d", got, n+1)
	}
	ts.conn.Close()
}

// TestMetrics: /metrics exposes the documented families after some traffic.
func TestMetrics(t *testing.T) {
	ts := startServer(t, Options{}, smallModel(t, nil))
	x, _ := randomImages(2, 2)
	ts.call(t, "POST", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{2, 3, 32, 32}, normalised(ts, x)), false)
	ts.call(t, "POST", "/v2/models/nosuch/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{2, 3, 32, 32}, x), false)
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`odin_requests_total{code="200",endpoint="infer",protocol="http"} 1`,
		`odin_requests_total{code="404",endpoint="infer",protocol="http"} 1`,
		`odin_request_duration_seconds_bucket{endpoint="infer",protocol="http",le="+Inf"} 2`,
		`odin_queue_wait_seconds_count{model="small"}`,
		`odin_batch_size_count{model="small"}`,
		`odin_images_scored_total{decision="in",model="small"}`,
		`odin_images_scored_total{decision="ood",model="small"}`,
		`odin_score_count{model="small"} 2`,
		`odin_model_info{checkpoint_sha256="`,
		`threshold="0.2500005",tpr="0.95"} 1`,
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// TestNotReadyUntilStarted: before the self-test passes, readiness and inference answer 503.
func TestNotReadyUntilStarted(t *testing.T) {
	s, err := New([]*Model{smallModel(t, nil)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	ts := &testServer{Server: s, url: "http://" + ln.Addr().String()}
	if code, _ := ts.call(t, "GET", "/v2/health/ready", "", nil, false); code != 503 {
		t.Errorf("ready before the self-test: %d", code)
	}
	if code, _ := ts.call(t, "GET", "/v2/health/live", "", nil, false); code != 200 {
		t.Errorf("live before the self-test: %d", code)
	}
	x, _ := randomImages(1, 2)
	if code, _ := ts.call(t, "POST", "/v2/models/small/infer", "application/json", inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, x), false); code != 503 {
		t.Errorf("infer before the self-test: %d", code)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := ts.call(t, "GET", "/v2/health/ready", "", nil, false); code != 200 {
		t.Errorf("ready after the self-test: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSelfTestExpectation: a configured self-test score that the model does not reproduce keeps
// the server unready.
func TestSelfTestExpectation(t *testing.T) {
	wrong := 0.5
	s, err := New([]*Model{smallModel(t, func(c *ModelConfig) { c.SelfTestScore = &wrong })}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "expects 0.5") || s.Ready() {
		t.Fatalf("self-test with a wrong expectation: %v, ready %v", err, s.Ready())
	}
}
