package serve

import (
	"context"
	"errors"
	"net/http"
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
	lease  *lease     // x's share of the byte budget
}

// finish returns the job's bytes to the budget (the queue no longer holds x; returning them
// first lets the caller's next request find them free) and answers it.
func (j *job) finish(err error) {
	j.lease.release()
	j.done <- err
}

// lease is a share of a batcher's byte budget, returned once.
type lease struct {
	b    *batcher
	n    int64
	once sync.Once
}

func (l *lease) release() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		l.b.bmu.Lock()
		l.b.used -= l.n
		l.b.bmu.Unlock()
	})
}

// leased is the number of bytes leased.
func (b *batcher) leased() int64 {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	return b.used
}

// reserve takes the bytes of n images from the budget before they are decoded, so that the
// images of every request between decoding and answer — in preparation, queued or computing —
// fit in it whatever their size. It fails with ErrQueueFull when the budget is taken, and with
// 413 when n images could never fit.
func (b *batcher) reserve(n int) (*lease, error) {
	bytes := int64(n) * int64(b.size) * 4
	if bytes > b.budget {
		return nil, errorf(http.StatusRequestEntityTooLarge, "%d images of %d values take %d bytes, more than the model's limit of %d (max_queue_bytes)", n, b.size, bytes, b.budget)
	}
	b.bmu.Lock()
	defer b.bmu.Unlock()
	if b.used+bytes > b.budget {
		return nil, ErrQueueFull
	}
	b.used += bytes
	return &lease{b: b, n: bytes}, nil
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

	bmu    sync.Mutex
	budget int64 // bytes of images the model may hold (max_queue_bytes)
	used   int64 // bytes leased
}

func newBatcher(net *models.Model, dets []ood.Detector, maxBatch int, delay time.Duration, queue, workers int, budget int64) *batcher {
	b := &batcher{net: net, size: net.Graph.Input().Size(), dets: dets, max: maxBatch, delay: delay, queue: make(chan *job, queue),
		observe: func(int, []time.Duration) {}, dropped: func() {}, budget: budget}
	for range workers {
		b.wg.Add(1)
		go b.work(net.Graph.NewExec(maxBatch))
	}
	return b
}

// submit queues n images and waits for their results. It fails at once with ErrQueueFull when
// the queue or the byte budget is full, and with the context's error when ctx ends first. The
// job then stays queued until a worker takes it and drops it uncomputed; x must not be reused
// meanwhile. l is x's lease (nil: submit takes one); it is released when the job is answered,
// or at once if the job is not queued.
func (b *batcher) submit(ctx context.Context, x []float32, n int, l *lease) ([]result, error) {
	if l == nil {
		var err error
		if l, err = b.reserve(n); err != nil {
			return nil, err
		}
	}
	j := &job{ctx: ctx, x: x, n: n, out: make([]result, n), queued: time.Now(), done: make(chan error, 1), lease: l}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		l.release()
		return nil, ErrClosed
	}
	select {
	case b.queue <- j:
	default:
		b.mu.RUnlock()
		l.release()
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
			j.finish(err)
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
				j.finish(err)
				return
			}
		}
		j.finish(nil)
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
		j.finish(err)
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

// DefaultMaxQueueBytes is a model's byte budget for images when its configuration sets none.
const DefaultMaxQueueBytes = 256 << 20
