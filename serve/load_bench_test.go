package serve

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// BenchmarkServeLoad is the load test of docs/serving.md: densenet10 with ODIN served on
// loopback, one 32×32 image (UINT8 pixels, JSON) per request, closed-loop vegeta clients at 1,
// 8, 64 and 256 concurrent clients for ODIN_LOAD_SECONDS each (default 8), each level preceded
// by the library's ODIN throughput as `odin bench` measures it (same process, same run). The
// queue holds 128 requests, so 256 clients overload it: the excess must get 429 and nothing
// else. Peak RSS is the process's during each level (server and load generator). Then
// SIGTERM is sent to the process during a load at 64 clients: every request the server accepted
// must be answered. Run it alone:
//
//	go test ./serve -run '^$' -bench ServeLoad -benchtime 1x -timeout 20m
func BenchmarkServeLoad(b *testing.B) {
	ckpt := datadir.ForTest(b, "models/densenet10.pth")
	secs := 8
	if v, err := strconv.Atoi(os.Getenv("ODIN_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	m, err := LoadModel(ModelConfig{Name: "densenet10", Checkpoint: ckpt, Threshold: writeThreshold(b, ckpt, 0.1013),
		MaxBatch: 8, MaxQueueDelay: Duration(2 * time.Millisecond), Queue: 128}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	url, served := loadServer(b, ctx, m)
	_, pix := randomImages(1, 42)
	target := vegeta.Target{Method: "POST", URL: url + "/v2/models/densenet10/infer",
		Body: inferJSON(InputPixels, "UINT8", []int64{1, 32, 32, 3}, bytesAsInts(pix), OutputScore, OutputIsOOD),
		// Scoring is idempotent: the key lets Go's client resend a request that met a keep-alive
		// connection the server closed at shutdown before reading it.
		Header: http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {"load"}}}
	b.Logf("CPU: %s, GOMAXPROCS %d, %d s per level", cpuName(), runtime.GOMAXPROCS(0), secs)
	b.Logf("%8s %12s %12s %7s %9s %9s %7s %7s %8s", "clients", "served img/s", "bench img/s", "ratio", "p50 ms", "p99 ms", "429s", "errors", "peak RSS")
	step := odinStep(b, m, 20)
	b.Logf("one ODIN step at batch 1 (one worker, median of 20): %.1f ms", ms(step))
	for _, clients := range []int{1, 8, 64, 256} {
		ref := benchODIN(b, m, time.Duration(secs)*time.Second/2)
		resetPeakRSS()
		met, o := attack(target, clients, time.Duration(secs)*time.Second, nil)
		rss := peakRSS()
		b.Logf("%8d %12.1f %12.1f %7.2f %9.1f %9.1f %7d %7d %5d MB", clients, met.Throughput, ref, met.Throughput/ref,
			ms(met.Latencies.P50), ms(met.Latencies.P99), met.StatusCodes["429"], o.other+o.refused, rss>>20)
		if clients == 1 {
			b.Logf("%8s p99 at 1 client = %.2f × the ODIN step at batch 1", "", float64(met.Latencies.P99)/float64(step))
		}
		if o.other+o.refused > 0 {
			b.Errorf("%d clients: %d errors other than 429: %v", clients, o.other+o.refused, met.Errors)
		}
	}
	// SIGTERM under load.
	met, o := attack(target, 64, time.Duration(secs)*time.Second, func() {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	})
	if err := <-served; err != nil {
		b.Errorf("Serve after SIGTERM: %v", err)
	}
	b.Logf("SIGTERM at 64 clients: %d requests answered 200, %d refused before being accepted (connection refused), %d other failures",
		met.StatusCodes["200"], o.refused, o.other)
	if o.other > 0 {
		b.Errorf("requests failed at shutdown other than by a refused connection: %v", met.Errors)
	}
}

// loadServer serves m on a loopback port until ctx ends; served receives Serve's result.
func loadServer(b *testing.B, ctx context.Context, m *Model) (string, chan error) {
	s, err := New([]*Model{m}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, nil) }()
	return "http://" + ln.Addr().String(), served
}

// outcome counts the requests that got neither 200 nor 429: refused before the server accepted
// them (connection refused), and the others.
type outcome struct{ refused, other int }

// attack runs closed-loop clients for d; midway it calls during, if given.
func attack(t vegeta.Target, clients int, d time.Duration, during func()) (*vegeta.Metrics, outcome) {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(clients)),
		vegeta.Connections(clients), vegeta.Timeout(60*time.Second), vegeta.KeepAlive(true))
	var met vegeta.Metrics
	var o outcome
	start := time.Now()
	fired := during == nil
	for r := range a.Attack(vegeta.NewStaticTargeter(t), vegeta.Rate{}, d, "load") {
		met.Add(r)
		switch {
		case r.Code == 200 || r.Code == 429:
		case r.Code == 0 && strings.Contains(r.Error, "connection refused"):
			o.refused++
		default:
			o.other++
		}
		if !fired && time.Since(start) > d/2 {
			fired = true
			during()
		}
	}
	met.Close()
	return &met, o
}

// benchODIN measures the library's ODIN throughput as odin bench does (workers = GOMAXPROCS,
// micro-batches of 8, 512 random images per measurement), repeated for about d; the median.
func benchODIN(b *testing.B, m *Model, d time.Duration) float64 {
	const n = 512
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*imageSize)
	for i := range x {
		x[i] = r.Float32()
	}
	pool := nn.NewPool(m.Net.Graph, 0, 8)
	batches := make([]*ood.Batch, pool.Workers())
	scores := make([]float64, n)
	det := m.Detectors[0]
	var rates []float64
	for start := time.Now(); len(rates) == 0 || time.Since(start) < d; {
		t0 := time.Now()
		err := pool.Run(context.Background(), n, func(e *nn.Exec, w, lo, hi int) error {
			if batches[w] == nil {
				batches[w] = ood.NewBatch(m.Net, e)
			}
			if err := batches[w].Load(x[lo*imageSize:hi*imageSize], hi-lo); err != nil {
				return err
			}
			return det.Score(context.Background(), batches[w], scores[lo:hi])
		})
		if err != nil {
			b.Fatal(err)
		}
		rates = append(rates, n/time.Since(t0).Seconds())
	}
	sort.Float64s(rates)
	return rates[len(rates)/2]
}

// odinStep is the median time of one ODIN step (forward, input gradient, perturbed forward) on
// one image with one engine.
func odinStep(b *testing.B, m *Model, reps int) time.Duration {
	x := SelfTestImage(m.Net.Graph.Input())
	ob := ood.NewBatch(m.Net, m.Net.Graph.NewExec(1))
	score := make([]float64, 1)
	var ts []time.Duration
	for range reps {
		t0 := time.Now()
		if err := ob.Load(x, 1); err != nil {
			b.Fatal(err)
		}
		if err := m.Detectors[0].Score(context.Background(), ob, score); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

// resetPeakRSS frees what the reference measurement left and resets the process's peak RSS
// (Linux: clear_refs 5), so that the next peakRSS covers the server and the load generator only.
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident set (VmHWM), 0 where /proc is missing.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}
