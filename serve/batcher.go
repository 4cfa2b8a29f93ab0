package serve

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// Errors of the batcher; the protocols map them to status codes.
var (
	// ErrQueueFull: the model's queue holds as many requests as it may; retry later (429,
	// RESOURCE_EXHAUSTED).
	ErrQueueFull = errors.New("queue full")
	// ErrClosed: the model no longer takes requests (the server is shutting down).
	ErrClosed = errors.New("model is shutting down")
)

// result is what the batcher computes for one image.
type result struct {
	scores []float64 // one per detector, the first ODIN's
	logits []float32 // K
}

// job is one request's images waiting in the queue.
type job struct {
	ctx    context.Context
	x      []float32 // n normalised images, C×H×W each
	n      int
	out    []result // filled by the worker
	queued time.Time
	done   chan error // receives once
}

// batcher gathers the jobs of many requests into micro-batches, as Triton's dynamic batcher does:
// a worker takes the oldest job, then waits at most delay from that job's arrival for more, up
// to max images, and runs them as one micro-batch. A job whose context is done by the time a
// worker takes it is answered with the context's error and never computed.
type batcher struct {
	net     *models.Model
	size    int // values per image
	dets    []ood.Detector
	max     int
	delay   time.Duration
	queue   chan *job
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards closed against sends on a closed queue
	closed  bool
	observe func(batch int, waits []time.Duration)
	dropped func()
}

func newBatcher(net *models.Model, dets []ood.Detector, maxBatch int, delay time.Duration, queue, workers int) *batcher {
	b := &batcher{net: net, size: net.Graph.Input().Size(), dets: dets, max: maxBatch, delay: delay, queue: make(chan *job, queue),
		observe: func(int, []time.Duration) {}, dropped: func() {}}
	for range workers {
		b.wg.Add(1)
		go b.work(net.Graph.NewExec(maxBatch))
	}
	return b
}

// submit queues n images and waits for their results. It fails at once with ErrQueueFull when
// the queue is full, and with the context's error when ctx ends first. The job then stays
// queued until a worker takes it and drops it uncomputed; x must not be reused meanwhile.
func (b *batcher) submit(ctx context.Context, x []float32, n int) ([]result, error) {
	j := &job{ctx: ctx, x: x, n: n, out: make([]result, n), queued: time.Now(), done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case b.queue <- j:
	default:
		b.mu.RUnlock()
		return nil, ErrQueueFull
	}
	b.mu.RUnlock()
	select {
	case err := <-j.done:
		return j.out, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops taking jobs, lets the workers finish every queued one and waits for them.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// work is one worker: it owns an Exec and a Batch, and runs micro-batches until the queue is
// closed and empty.
func (b *batcher) work(e *nn.Exec) {
	defer b.wg.Done()
	ob := ood.NewBatch(b.net, e)
	var carry *job // a job that did not fit into the previous micro-batch
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if first, ok = <-b.queue; !ok {
				return
			}
		}
		jobs := b.gather(first, &carry)
		if len(jobs) > 0 {
			b.run(ob, jobs)
		}
	}
}

// gather collects live jobs for one micro-batch, starting with first: every job already queued,
// then those arriving until delay has passed since first arrived, up to max images or until the
// queue is closed. A job that would overflow the micro-batch is left in carry for the next one.
func (b *batcher) gather(first *job, carry **job) []*job {
	var jobs []*job
	total := 0
	add := func(j *job) bool {
		if err := j.ctx.Err(); err != nil {
			b.dropped()
			j.done <- err
			return true
		}
		if total > 0 && total+j.n > b.max {
			*carry = j
			return false
		}
		jobs = append(jobs, j)
		total += j.n
		return true
	}
	add(first)
	if total >= b.max || *carry != nil {
		return jobs
	}
	timer := time.NewTimer(time.Until(first.queued.Add(b.delay)))
	defer timer.Stop()
	for total < b.max {
		// Jobs already queued join at once, even when the delay has passed (a backlog makes
		// full micro-batches); only waiting for new ones is bounded by the delay.
		select {
		case j, ok := <-b.queue:
			if !ok || !add(j) {
				return jobs
			}
			continue
		default:
		}
		select {
		case j, ok := <-b.queue:
			if !ok || !add(j) {
				return jobs
			}
		case <-timer.C:
			if total > 0 {
				return jobs
			}
			// Every job so far was dropped: wait for the next one without a deadline.
			j, ok := <-b.queue
			if !ok {
				return jobs
			}
			add(j)
			timer.Reset(time.Until(j.queued.Add(b.delay)))
		}
	}
	return jobs
}

// run computes one micro-batch of jobs (a single job larger than max runs in pieces) and
// answers each job.
func (b *batcher) run(ob *ood.Batch, jobs []*job) {
	now := time.Now()
	waits := make([]time.Duration, len(jobs))
	total := 0
	for i, j := range jobs {
		waits[i] = now.Sub(j.queued)
		total += j.n
	}
	b.observe(total, waits)
	if len(jobs) == 1 && jobs[0].n > b.max {
		j := jobs[0]
		for lo := 0; lo < j.n; lo += b.max {
			hi := min(j.n, lo+b.max)
			if err := b.compute(ob, j.x[lo*b.size:hi*b.size], j.out[lo:hi]); err != nil {
				j.done <- err
				return
			}
		}
		j.done <- nil
		return
	}
	x := make([]float32, 0, total*b.size)
	for _, j := range jobs {
		x = append(x, j.x[:j.n*b.size]...)
	}
	out := make([]result, total)
	err := b.compute(ob, x, out)
	off := 0
	for _, j := range jobs {
		copy(j.out, out[off:off+j.n])
		off += j.n
		j.done <- err
	}
}

// compute scores len(out) normalised images with every detector.
func (b *batcher) compute(ob *ood.Batch, x []float32, out []result) error {
	n := len(out)
	if err := ob.LoadNormalized(x, n); err != nil {
		return err
	}
	k := b.net.Classes()
	for i := range out {
		out[i] = result{scores: make([]float64, len(b.dets)), logits: append([]float32(nil), ob.Logits[i*k:(i+1)*k]...)}
	}
	col := make([]float64, n)
	for d, det := range b.dets {
		// Detectors do not block; the context only matters to the caller, who waits anyway.
		if err := det.Score(context.Background(), ob, col); err != nil {
			return err
		}
		for i := range out {
			out[i].scores[d] = col[i]
		}
	}
	return nil
}

// imageSize is the number of values of one 3×32×32 image, the only size encoded images are
// decoded to.
const imageSize = 3 * 32 * 32
