package nn

import (
	"fmt"
	"time"

	"github.com/odin-ood/odin/internal/gemm"
)

// execCtx is the scratch one Exec lends its layers.
type execCtx struct {
	cap                 int
	ws                  *gemm.Workspace
	col, tmp, pad, tile []float32
	ones                []float32    // onesLen ones, for addBias
	wgT                 *gemm.Packed // transposed Winograd kernels (see winograd.adjoint)
}

// onesLen is the length of execCtx.ones.
const onesLen = 4096

// addBias adds v to every element of row, as a multiply-add of a vector of ones in AVX2 where
// the CPU has it: v·1 is exact, so the sum is the scalar loop's, bit for bit.
func (x *execCtx) addBias(row []float32, v float32) {
	for len(row) > 0 {
		m := min(len(row), onesLen)
		axpy(row[:m], x.ones[:m], v)
		row = row[m:]
	}
}

// rowPad is the gap, in floats, after each channel row of a micro-batch. Without it the rows
// of a plane that holds a power of two of pixels per batch lie a power of two apart, so the
// rows a matrix product reads together (one per input channel) fall into a few cache sets and
// evict one another: one cache line of padding measured 25% faster 1×1 convolutions on Zen1.
const rowPad = 16

// ld is the channel stride of values with hw pixels per image.
func (x *execCtx) ld(hw int) int { return x.cap*hw + rowPad }

// Exec runs a Graph forward and backward on micro-batches of up to Cap images. It owns every
// buffer it needs, sized by the largest micro-batch it has run so far rather than by Cap, so that
// a few images cost memory for a few images whatever the batch size; once grown, repeated runs
// allocate nothing. An Exec is not safe for concurrent use; give each goroutine its own (see Pool).
type Exec struct {
	g     *Graph
	limit int         // Cap
	x     execCtx     // x.cap is the micro-batch the buffers hold, 0 before the first run
	vals  [][]float32 // per value, its slice of a root buffer (nil if not materialised)
	grads [][]float32 // per value, its slice of a shared gradient buffer (see gradbuf.go)
	n     int
	ins   [][]float32 // reusable argument slices, one per step
	gins  [][]float32
}

// NewExec returns an executor for micro-batches of up to batch images (1 if batch < 1, MaxBatch
// if it is larger). It allocates its buffers on the first Forward.
func (g *Graph) NewExec(batch int) *Exec {
	batch = min(max(batch, 1), MaxBatch)
	return &Exec{g: g, limit: batch, x: execCtx{ws: gemm.NewWorkspace()},
		ins: make([][]float32, 0, 8), gins: make([][]float32, 0, 8)}
}

// reserve makes the buffers hold micro-batches of n images, growing them (at least doubling,
// up to Cap) if they hold fewer. Values are laid out by capacity, so growing lays out anew.
func (e *Exec) reserve(n int) {
	if n <= e.x.cap {
		return
	}
	e.x.cap = max(n, min(e.limit, 2*e.x.cap))
	e.layOut()
	e.sizeScratch()
}

// layOut allocates the values and their gradients for micro-batches of x.cap images in one arena:
// the shared gradient buffers (gradbuf.go) and value buffers (valbuf.go), each as large as the
// largest root it holds, each other root value's own buffer, and the slices of them its members
// use.
func (e *Exec) layOut() {
	g, p := e.g, e.g.plan
	gp := p.grads
	nv := len(g.nodes)
	e.vals = make([][]float32, nv)
	e.grads = make([][]float32, nv)
	roots := make([][]float32, nv)
	// Gradient buffers, then shared value buffers, then the values of their own.
	slotSize := make([]int, gp.slots+p.valSlots)
	total := 0
	for v := range nv {
		if p.root[v] == v {
			sh := p.shape[v]
			size := sh.C * e.x.ld(sh.H*sh.W)
			slotSize[gp.slot[v]] = max(slotSize[gp.slot[v]], size)
			if s := p.valSlot[v]; s >= 0 {
				slotSize[gp.slots+s] = max(slotSize[gp.slots+s], size)
			} else {
				total += size
			}
		}
	}
	for _, s := range slotSize {
		total += s
	}
	arena := hugeFloats(total)
	slots := make([][]float32, len(slotSize))
	for i, s := range slotSize {
		slots[i], arena = arena[:s:s], arena[s:]
	}
	for v := range nv {
		if p.root[v] == v {
			sh := p.shape[v]
			size := sh.C * e.x.ld(sh.H*sh.W)
			if s := p.valSlot[v]; s >= 0 {
				roots[v] = slots[gp.slots+s][:size:size]
			} else {
				roots[v], arena = arena[:size:size], arena[size:]
			}
			e.grads[v] = slots[gp.slot[v]][:size:size]
		}
	}
	for v := range nv {
		r := p.root[v]
		if r < 0 {
			continue
		}
		s := p.shape[v]
		ld := e.x.ld(s.H * s.W)
		off := p.chOff[v] * ld
		e.vals[v] = roots[r][off : off+s.C*ld]
		e.grads[v] = e.grads[r][off : off+s.C*ld]
	}
}

// sizeScratch allocates the scratch the layers borrow, as large as the largest needs at x.cap.
func (e *Exec) sizeScratch() {
	p, batch := e.g.plan, e.x.cap
	var col, tmp, pad, tile int
	for _, st := range p.steps {
		if a, ok := st.op.(*avgPool); ok {
			tmp = max(tmp, a.scratch(batch))
		}
		if s, ok := st.op.(borrower); ok {
			a, b := s.workspace(batch)
			col, tmp = max(col, a), max(tmp, b)
		}
		if s, ok := st.op.(padBorrower); ok {
			a, b := s.padScratch(batch)
			pad, tile = max(pad, a), max(tile, b)
		}
		if c, ok := st.op.(*conv); ok {
			a, b := c.scratch(batch)
			col, tmp = max(col, a), max(tmp, b)
			a, b = c.directScratch(batch)
			pad, tile = max(pad, a), max(tile, b)
		}
	}
	e.x.ones = make([]float32, onesLen)
	for i := range e.x.ones {
		e.x.ones[i] = 1
	}
	e.x.col = make([]float32, col)
	e.x.tmp = make([]float32, tmp)
	e.x.pad = make([]float32, pad)
	e.x.tile = make([]float32, tile)
}

// Cap is the largest micro-batch this Exec takes.
func (e *Exec) Cap() int { return e.limit }

// Graph is the network this Exec runs.
func (e *Exec) Graph() *Graph { return e.g }

// Forward runs the network on n images. x holds them one after another, each C×H×W (PyTorch's
// layout, already normalised).
func (e *Exec) Forward(x []float32, n int) error {
	in := e.g.nodes[0].shape
	if n < 1 || n > e.limit {
		return fmt.Errorf("nn: batch of %d images, executor takes 1 to %d", n, e.limit)
	}
	if len(x) < n*in.Size() {
		return fmt.Errorf("nn: %d input values for %d images of %v", len(x), n, in)
	}
	e.reserve(n)
	e.n = n
	scatter(e.vals[0], x, n, in, e.x.ld(in.H*in.W))
	e.forward(nil)
	return nil
}

// forward runs the steps on the input in place, timing each into times unless it is nil.
func (e *Exec) forward(times []time.Duration) {
	for i, st := range e.g.plan.steps {
		e.ins = e.ins[:0]
		for _, v := range st.in {
			e.ins = append(e.ins, e.vals[v])
		}
		if times == nil {
			st.op.forward(&e.x, e.n, e.ins, e.vals[st.out])
			continue
		}
		t0 := time.Now()
		st.op.forward(&e.x, e.n, e.ins, e.vals[st.out])
		times[i] = time.Since(t0)
	}
}

// Logits copies the logits of the last forward pass into dst (n×K, image by image), growing it
// if needed, and returns it.
func (e *Exec) Logits(dst []float32) []float32 {
	return e.read(e.g.output, dst)
}

// Tap copies the named intermediate value of the last forward pass into dst (n × its size,
// image by image, each C×H×W) and returns it.
func (e *Exec) Tap(name string, dst []float32) ([]float32, error) {
	id, ok := e.g.taps[name]
	if !ok {
		return nil, fmt.Errorf("nn: no tap %q in this network", name)
	}
	return e.read(id, dst), nil
}

func (e *Exec) read(v int, dst []float32) []float32 {
	s := e.g.nodes[v].shape
	size := e.n * s.Size()
	if cap(dst) < size {
		dst = make([]float32, size)
	}
	dst = dst[:size]
	gather(dst, e.vals[v], e.n, s, e.x.ld(s.H*s.W))
	return dst
}

// Backward propagates a gradient from the logits (from == "") or from a tap back to the input,
// for the images of the last forward pass. grad holds n gradients of that value, image by image;
// gradInput receives n input gradients, image by image, and is grown if needed and returned.
// Weights are frozen: only input gradients are computed.
func (e *Exec) Backward(from string, grad, gradInput []float32) ([]float32, error) {
	return e.backward(from, grad, gradInput, nil)
}

// backward is Backward, timing each step into times (by plan position) unless it is nil; steps
// downstream of the starting point get zero.
func (e *Exec) backward(from string, grad, gradInput []float32, times []time.Duration) ([]float32, error) {
	id := e.g.output
	if from != "" {
		var ok bool
		if id, ok = e.g.taps[from]; !ok {
			return nil, fmt.Errorf("nn: no tap %q in this network", from)
		}
	}
	s := e.g.nodes[id].shape
	if e.n == 0 {
		return nil, fmt.Errorf("nn: backward before forward")
	}
	if len(grad) < e.n*s.Size() {
		return nil, fmt.Errorf("nn: %d gradient values for %d images of %v", len(grad), e.n, s)
	}
	// Steps downstream of the starting point are skipped: the gradients they would have
	// started are cleared here, with the seed's, and the others just before their first write.
	steps, gp := e.g.plan.steps, e.g.plan.grads
	last := -1
	for i, st := range steps {
		if st.out == id {
			last = i
		}
	}
	for v, r := range e.g.plan.root {
		if r == v && gp.lo[v] <= last && gp.hi[v] > last {
			clear(e.grads[v])
		}
	}
	scatter(e.grads[id], grad, e.n, s, e.x.ld(s.H*s.W))
	clear(times)
	for i := last; i >= 0; i-- {
		st := steps[i]
		var t0 time.Time
		if times != nil {
			t0 = time.Now() // the step's gradient clears are its cost too
		}
		for _, r := range gp.clearAt[i] {
			clear(e.grads[r])
		}
		e.ins, e.gins = e.ins[:0], e.gins[:0]
		for _, v := range st.in {
			e.ins = append(e.ins, e.vals[v])
			e.gins = append(e.gins, e.grads[v])
		}
		st.op.backward(&e.x, e.n, e.ins, e.vals[st.out], e.grads[st.out], e.gins)
		if times != nil {
			times[i] = time.Since(t0)
		}
	}
	in := e.g.nodes[0].shape
	size := e.n * in.Size()
	if cap(gradInput) < size {
		gradInput = make([]float32, size)
	}
	gradInput = gradInput[:size]
	gather(gradInput, e.grads[0], e.n, in, e.x.ld(in.H*in.W))
	return gradInput, nil
}

// scatter copies n images laid out one after another into the channel-major batch layout.
// ld is the layout's channel stride.
func scatter(dst, src []float32, n int, s Shape, ld int) {
	hw := s.H * s.W
	for b := range n {
		for c := range s.C {
			copy(dst[c*ld+b*hw:c*ld+(b+1)*hw], src[(b*s.C+c)*hw:(b*s.C+c+1)*hw])
		}
	}
}

// gather is the inverse of scatter.
func gather(dst, src []float32, n int, s Shape, ld int) {
	hw := s.H * s.W
	for b := range n {
		for c := range s.C {
			copy(dst[(b*s.C+c)*hw:(b*s.C+c+1)*hw], src[c*ld+b*hw:c*ld+(b+1)*hw])
		}
	}
}
