package nn

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool runs a Graph on many images with a fixed number of workers, each with its own Exec.
// Images are split into micro-batches of Batch images in order; which worker takes which
// micro-batch varies, but every image's result is computed the same way regardless, so results
// are bit-identical for any worker count and any batch size.
type Pool struct {
	g       *Graph
	batch   int
	workers int
	execs   []*Exec
}

// NewPool makes a pool of workers (GOMAXPROCS when workers < 1) running micro-batches of batch
// images (1 when batch < 1). Run refuses more than MaxWorkers workers or MaxBatch images; nothing
// is allocated here.
func NewPool(g *Graph, workers, batch int) *Pool {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	if batch < 1 {
		batch = 1
	}
	return &Pool{g: g, batch: batch, workers: workers}
}

// Workers is the number of workers.
func (p *Pool) Workers() int { return p.workers }

// Batch is the micro-batch size.
func (p *Pool) Batch() int { return p.batch }

// Each calls fn once with every worker's Exec, on all the workers in parallel, and returns the
// first error. It warms a pool up: a benchmark runs one micro-batch on each worker before it
// starts timing, which Run cannot promise, as any worker may take any micro-batch.
func (p *Pool) Each(ctx context.Context, fn func(e *Exec, worker int) error) error {
	if err := p.check(); err != nil {
		return err
	}
	p.ensure(p.workers)
	errs := make([]error, p.workers)
	var wg sync.WaitGroup
	for w := range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[w] = ctx.Err(); errs[w] == nil {
				errs[w] = fn(p.execs[w], w)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// check refuses worker counts and batches beyond MaxWorkers and MaxBatch.
func (p *Pool) check() error {
	if err := CheckWorkers(p.workers); err != nil {
		return err
	}
	return CheckBatch(p.batch)
}

// ensure creates the Execs of workers 0…k−1 that do not exist yet.
func (p *Pool) ensure(k int) {
	if p.execs == nil {
		p.execs = make([]*Exec, p.workers)
	}
	for w := range k {
		if p.execs[w] == nil {
			p.execs[w] = p.g.NewExec(p.batch)
		}
	}
}

// Run calls fn for each micro-batch [lo, hi) of n images, on the workers in parallel. Each call
// gets its worker's Exec and the worker's index. It stops at the first error or when ctx is
// cancelled, and returns that error; micro-batches already finished stay finished. Only as many
// workers start as there are micro-batches, and their Execs hold only the images they are given;
// a worker keeps its Exec from one Run to the next.
func (p *Pool) Run(ctx context.Context, n int, fn func(e *Exec, worker, lo, hi int) error) error {
	if err := p.check(); err != nil {
		return err
	}
	workers := min(p.workers, (max(n, 0)+p.batch-1)/p.batch)
	p.ensure(workers)
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	stop := make(chan struct{})
	fail := func(err error) {
		once.Do(func() { first = err; close(stop) })
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				lo := int(next.Add(int64(p.batch))) - p.batch
				if lo >= n {
					return
				}
				if err := fn(p.execs[w], w, lo, min(n, lo+p.batch)); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
