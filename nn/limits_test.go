package nn

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
)

// allocated returns the bytes the heap allocated while fn ran, an upper bound on the memory
// fn's work held at its peak.
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// limitGraph is a small dense block on 3×32×32 images.
func limitGraph(t *testing.T) *Graph {
	r := rand.New(rand.NewPCG(9, 10))
	b := NewBuilder(Shape{3, 32, 32})
	h := b.Conv2d("c0", b.Input(), Conv{Out: 8, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 8*3*9, 0.3)})
	y := b.Conv2d("c1", b.ReLU(b.BatchNorm("bn", h, randBN(r, 8))), Conv{Out: 8, KH: 3, KW: 3, Stride: 1, Pad: 1, Weight: randVec(r, 8*8*9, 0.3)})
	h = b.Concat(h, y)
	g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(b.ReLU(h)), 4, randVec(r, 4*16, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPoolLimits: --batch 5000 and --workers 10000 were taken as given. The pool refuses batch
// and worker counts beyond MaxBatch and MaxWorkers with a one-line error, allocating nothing.
func TestPoolLimits(t *testing.T) {
	g := limitGraph(t)
	noop := func(*Exec, int, int, int) error { return nil }
	for _, c := range []struct {
		workers, batch int
		want           string
	}{
		{MaxWorkers + 1, 8, "nn: 257 workers is out of range (1 to 256)"},
		{1 << 40, 8, "workers is out of range"},
		{2, MaxBatch + 1, "nn: batch of 1025 images is out of range (1 to 1024)"},
		{2, 5000, "batch of 5000 images is out of range"},
	} {
		var err error
		got := allocated(func() { err = NewPool(g, c.workers, c.batch).Run(context.Background(), 5, noop) })
		if err == nil || !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("workers %d batch %d: error %v, want one line containing %q", c.workers, c.batch, err, c.want)
		}
		if got > 64<<10 {
			t.Errorf("workers %d batch %d: %d bytes allocated refusing it", c.workers, c.batch, got)
		}
	}
	if CheckBatch(MaxBatch) != nil || CheckWorkers(MaxWorkers) != nil || CheckBatch(0) == nil || CheckWorkers(0) == nil {
		t.Error("limits are not inclusive ranges from 1")
	}
}

// TestPoolSizedByImagesInFlight: every worker used to get buffers for a whole micro-batch, so
// --batch 1000 --count 5 took 16 GB. A pool now starts only the workers there are micro-batches
// for, and their Execs hold the images they are given: 5 images with 8 workers and batches of
// 1000 allocate what 5 images with 1 worker and batches of 5 do, within 10%.
func TestPoolSizedByImagesInFlight(t *testing.T) {
	g := limitGraph(t)
	x := make([]float32, 5*3*32*32)
	run := func(workers, batch int) (uint64, int) {
		started := 0
		got := allocated(func() {
			err := NewPool(g, workers, batch).Run(context.Background(), 5, func(e *Exec, w, lo, hi int) error {
				started = max(started, w+1)
				return e.Forward(x[lo*3072:hi*3072], hi-lo)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		return got, started
	}
	small, _ := run(1, 5)
	large, started := run(8, 1000)
	t.Logf("5 images: %d bytes with 1 worker and batches of 5, %d with 8 workers and batches of 1000", small, large)
	if started != 1 {
		t.Errorf("%d workers ran one micro-batch", started)
	}
	if float64(large) > 1.1*float64(small) {
		t.Errorf("%d bytes allocated for 5 images with batches of 1000, %d with batches of 5", large, small)
	}
}

// TestExecGrows runs one Exec on micro-batches of 1, then 5, then 3 images: its buffers grow
// to what is in flight, results stay bit-identical to an Exec sized at once, and once grown a
// forward and backward pass allocate nothing.
func TestExecGrows(t *testing.T) {
	g := limitGraph(t)
	r := rand.New(rand.NewPCG(11, 12))
	x := randVec(r, 5*3072, 1)
	ref := g.NewExec(5)
	lazy := g.NewExec(64)
	for _, n := range []int{1, 5, 3} {
		if err := ref.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		if err := lazy.Forward(x, n); err != nil {
			t.Fatal(err)
		}
		l1, l2 := ref.Logits(nil), lazy.Logits(nil)
		g1, err1 := ref.Backward("", l1, nil)
		g2, err2 := lazy.Backward("", l2, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for i := range l1 {
			if l1[i] != l2[i] {
				t.Fatalf("%d images: logit %d differs", n, i)
			}
		}
		for i := range g1 {
			if g1[i] != g2[i] {
				t.Fatalf("%d images: gradient %d differs", n, i)
			}
		}
	}
	if lazy.x.cap != 5 || lazy.Cap() != 64 {
		t.Errorf("buffers for %d images (Cap %d) after batches of at most 5", lazy.x.cap, lazy.Cap())
	}
	logits, grad := make([]float32, 5*4), make([]float32, 5*3072)
	allocs := testing.AllocsPerRun(5, func() {
		lazy.Forward(x, 4)
		logits = lazy.Logits(logits)
		grad, _ = lazy.Backward("", logits, grad)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass once grown", allocs)
	}
}

// TestPoolEach: a benchmark's warm-up must reach every worker, which Run does not promise. Each
// calls every worker once with the Exec that Run gives it later, returns an error fn returns,
// and refuses what Run refuses.
func TestPoolEach(t *testing.T) {
	g := limitGraph(t)
	const workers = 3
	p := NewPool(g, workers, 4)
	var mu sync.Mutex
	seen := map[int]*Exec{}
	err := p.Each(context.Background(), func(e *Exec, w int) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := seen[w]; dup || e == nil {
			t.Errorf("worker %d called twice or without an Exec", w)
		}
		seen[w] = e
		return nil
	})
	if err != nil || len(seen) != workers {
		t.Fatalf("Each: error %v, %d of %d workers called", err, len(seen), workers)
	}
	err = p.Run(context.Background(), 12, func(e *Exec, w, lo, hi int) error {
		mu.Lock()
		defer mu.Unlock()
		if seen[w] != e {
			t.Errorf("Run gave worker %d another Exec than Each did", w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := p.Each(context.Background(), func(e *Exec, w int) error {
		if w == 1 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("Each returned %v, want the worker's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Each(ctx, func(*Exec, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Each on a cancelled context returned %v", err)
	}
	if err := NewPool(g, MaxWorkers+1, 4).Each(context.Background(), func(*Exec, int) error { return nil }); !errors.Is(err, ErrLimit) {
		t.Errorf("Each with %d workers returned %v", MaxWorkers+1, err)
	}
}
