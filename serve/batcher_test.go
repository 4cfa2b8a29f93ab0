package serve

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/odin-ood/odin/ood"
	pb "github.com/odin-ood/odin/serve/oippb"
)

// TestBatchIndependence: an image's scores and logits are the same bits whichever images share
// its micro-batch and wherever it sits in it (nn/doc.go's Determinism, checked end to end).
func TestBatchIndependence(t *testing.T) {
	m := smallModel(t, func(c *ModelConfig) { c.MaxBatch = 16 })
	m.start(nil)
	defer m.b.close()
	x, _ := randomImages(16, 11)
	m.Net.Normalize(x, x, 16)
	alone := make([]*Scores, 16)
	for i := range alone {
		s, err := m.Score(context.Background(), x[i*imageSize:(i+1)*imageSize], 1)
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = s
	}
	same := func(how string, i int, s *Scores, j int) {
		t.Helper()
		k := m.Net.Classes()
		bits := []bool{math.Float64bits(s.ODIN[j]) == math.Float64bits(alone[i].ODIN[0]),
			math.Float64bits(s.Extra[0][j]) == math.Float64bits(alone[i].Extra[0][0]),
			math.Float64bits(s.Extra[1][j]) == math.Float64bits(alone[i].Extra[1][0])}
		for c := range k {
			bits = append(bits, math.Float32bits(s.Logits[j*k+c]) == math.Float32bits(alone[i].Logits[c]))
		}
		for _, ok := range bits {
			if !ok {
				t.Fatalf("%s: image %d differs from its score alone (%v vs %v)", how, i, s.ODIN[j], alone[i].ODIN[0])
			}
		}
	}
	// All 16 in one request, in order and reversed.
	s, err := m.Score(context.Background(), x, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 16 {
		same("batch of 16", i, s, i)
	}
	rev := make([]float32, len(x))
	for i := range 16 {
		copy(rev[i*imageSize:], x[(15-i)*imageSize:(16-i)*imageSize])
	}
	if s, err = m.Score(context.Background(), rev, 16); err != nil {
		t.Fatal(err)
	}
	for i := range 16 {
		same("reversed batch", 15-i, s, i)
	}
	// Odd sizes: 3, 5 and 7 images starting at different offsets.
	for _, n := range []int{3, 5, 7} {
		for lo := 0; lo+n <= 16; lo += n {
			s, err := m.Score(context.Background(), x[lo*imageSize:(lo+n)*imageSize], n)
			if err != nil {
				t.Fatal(err)
			}
			for j := range n {
				same("batch of odd size", lo+j, s, j)
			}
		}
	}
	// Many concurrent single requests, batched together as they arrive.
	var wg sync.WaitGroup
	for r := range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := r % 16
			s, err := m.Score(context.Background(), x[i*imageSize:(i+1)*imageSize], 1)
			if err != nil {
				t.Error(err)
				return
			}
			same("concurrent", i, s, 0)
		}()
	}
	wg.Wait()
}

// counting wraps a detector and counts the images it scores.
type counting struct {
	ood.Detector
	images atomic.Int64
	gate   chan struct{} // if not nil, each micro-batch waits for a value
}

func (c *counting) Score(ctx context.Context, b *ood.Batch, dst []float64) error {
	if c.gate != nil {
		<-c.gate
	}
	c.images.Add(int64(b.N))
	return c.Detector.Score(ctx, b, dst)
}

// TestDeadlineDropped: a request whose context ends while it is queued is answered with the
// context's error and never computed.
func TestDeadlineDropped(t *testing.T) {
	m := smallModel(t, func(c *ModelConfig) { c.Workers, c.MaxBatch, c.Queue = 1, 1, 8 })
	det := &counting{Detector: m.Detectors[0], gate: make(chan struct{})}
	m.Detectors[0] = det
	m.start(nil)
	dropped := make(chan struct{}, 8)
	m.b.dropped = func() { dropped <- struct{}{} }
	x, _ := randomImages(1, 1)
	// The first request occupies the worker (held at the gate) ...
	first := make(chan error, 1)
	go func() { _, err := m.Score(context.Background(), x, 1); first <- err }()
	for len(m.b.queue) > 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	// ... while a second one times out in the queue.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := m.Score(ctx, x, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued request past its deadline: %v", err)
	}
	det.gate <- struct{}{} // release the first
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case <-dropped:
	case <-time.After(5 * time.Second):
		t.Fatal("expired request not dropped")
	}
	close(det.gate)
	m.b.close()
	if n := det.images.Load(); n != 1 {
		t.Errorf("%d images computed, want 1 (the expired request must not be)", n)
	}
}

// TestQueueFull: with the worker held and the queue full, REST answers 429 and gRPC
// RESOURCE_EXHAUSTED with the error object; once released, every accepted request is answered.
func TestQueueFull(t *testing.T) {
	m := smallModel(t, func(c *ModelConfig) { c.Workers, c.MaxBatch, c.Queue = 1, 1, 2 })
	ts := startServer(t, Options{}, m)
	det := &counting{Detector: m.Detectors[0], gate: make(chan struct{})}
	m.b.dets[0] = det
	x, _ := randomImages(1, 2)
	body := inferJSON(InputTensor, "FP32", []int64{1, 3, 32, 32}, normalised(ts, x), OutputScore)
	codes1 := make(chan int, 3)
	for range 3 { // one computing, two queued
		go func() {
			code, _ := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
			codes1 <- code
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(m.b.queue) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	code, resp := ts.call(t, "POST", "/v2/models/small/infer", "application/json", body, false)
	if code != http.StatusTooManyRequests {
		t.Errorf("full queue: %d %s", code, resp)
	}
	_, err := ts.grpc.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "small",
		Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: InputTensor, Datatype: "FP32", Shape: []int64{1, 3, 32, 32},
			Contents: &pb.InferTensorContents{Fp32Contents: normalised(ts, x)}}}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("full queue over gRPC: %v", err)
	}
	close(det.gate)
	for range 3 {
		if c := <-codes1; c != 200 {
			t.Errorf("accepted request answered %d", c)
		}
	}
}

// TestBacklogMakesFullBatches: requests that queued while the worker was busy are computed as
// full micro-batches, however long they have waited.
func TestBacklogMakesFullBatches(t *testing.T) {
	m := smallModel(t, func(c *ModelConfig) { c.Workers, c.MaxBatch, c.Queue = 1, 8, 64 })
	det := &counting{Detector: m.Detectors[0], gate: make(chan struct{})}
	m.Detectors[0] = det
	m.start(nil)
	defer m.b.close()
	var mu sync.Mutex
	var sizes []int
	m.b.observe = func(n int, _ []time.Duration) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }
	x, _ := randomImages(1, 1)
	var wg sync.WaitGroup
	for range 17 { // the first micro-batch is held at the gate while the others queue
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Score(context.Background(), x, 1); err != nil {
				t.Error(err)
			}
		}()
	}
	// Wait until the worker holds its first micro-batch at the gate and the rest is queued.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		ok := len(sizes) == 1 && len(m.b.queue) == 17-sizes[0]
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // well past the queue delay
	close(det.gate)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for i, n := range sizes {
		total += n
		if i > 0 && i < len(sizes)-1 && n != 8 {
			t.Errorf("micro-batch sizes %v: a backlog batch is not full", sizes)
		}
	}
	if total != 17 || len(sizes) < 2 || sizes[1] != min(8, 17-sizes[0]) {
		t.Errorf("micro-batch sizes %v", sizes)
	}
}
