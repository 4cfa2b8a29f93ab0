package ood

import (
	"fmt"

	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// Batch is one micro-batch of images on one worker, with the shared forward pass already run.
// Detectors read Logits and Features from it and may run further passes on Exec; a Batch is
// reused from one micro-batch to the next, so the steady state allocates nothing.
type Batch struct {
	Model *models.Model
	Exec  *nn.Exec
	N     int
	// Input holds the N normalised images, each of the graph's input shape, one after another.
	Input []float32
	// Logits holds N×K logits of the unperturbed images.
	Logits []float32
	// Features holds the penultimate features (after global pooling) of the unperturbed
	// images, N×D, if the network has a "features" tap.
	Features []float32

	// clean is false when Exec last ran on something other than Input.
	clean bool
	// Scratch for detectors that perturb the input.
	grad, pert, perturbed, logits2 []float32
	// Named scratch of other detectors (see f32 and f64), and a GEMM workspace, kept between
	// micro-batches so that scoring allocates nothing in the steady state.
	s32 map[string][]float32
	s64 map[string][]float64
	si  map[string][]int
	ws  *gemm.Workspace

	// gen counts the micro-batches loaded; pending holds, per requester, the input gradients
	// computed for micro-batch gen (see inputGradient).
	gen     uint64
	pending map[any]*pendingGrad
	order   []any // requesters in the order they first asked
}

// pendingGrad is one requester's input gradient: how to seed it, and its value for a micro-batch.
type pendingGrad struct {
	seed  func() (tap string, grad []float32, err error)
	asked uint64 // the last micro-batch that asked
	gen   uint64 // the micro-batch in holds the gradient of, 0 for none
	in    []float32
}

// NewBatch makes a Batch for an Exec of the model's graph.
func NewBatch(m *models.Model, e *nn.Exec) *Batch {
	return &Batch{Model: m, Exec: e}
}

// Load normalises n images (each of the graph's input shape, in [0,1], one after another) and
// runs the shared forward pass.
func (b *Batch) Load(images []float32, n int) error {
	size := n * b.Model.Graph.Input().Size()
	if len(images) < size {
		return fmt.Errorf("ood: %d values for %d images", len(images), n)
	}
	b.Input = grow(b.Input, size)
	b.Model.Normalize(b.Input, images, n)
	return b.forwardInput(n)
}

// LoadNormalized takes n images that are already normalised.
func (b *Batch) LoadNormalized(x []float32, n int) error {
	if n < 1 || len(x) < n*b.Model.Graph.Input().Size() {
		return fmt.Errorf("ood: %d values for %d normalised images", len(x), n)
	}
	b.Input = grow(b.Input, n*b.Model.Graph.Input().Size())
	copy(b.Input, x)
	return b.forwardInput(n)
}

func (b *Batch) forwardInput(n int) error {
	b.N = n
	b.gen++
	if err := b.Exec.Forward(b.Input, n); err != nil {
		return err
	}
	b.clean = true
	b.Logits = b.Exec.Logits(b.Logits)
	if _, ok := b.Model.Graph.Taps()["features"]; ok {
		var err error
		if b.Features, err = b.Exec.Tap("features", b.Features); err != nil {
			return err
		}
	}
	return nil
}

// Restore makes sure the Exec holds the forward pass of the unperturbed input, rerunning it if
// a detector ran the network on something else since. Call it before a backward pass.
func (b *Batch) Restore() error {
	if b.clean {
		return nil
	}
	if err := b.Exec.Forward(b.Input, b.N); err != nil {
		return err
	}
	b.clean = true
	return nil
}

// ForwardPerturbed runs the network on x (N normalised images) and returns the logits, valid
// until the next call. The Exec then no longer holds the clean pass.
func (b *Batch) ForwardPerturbed(x []float32) ([]float32, error) {
	b.clean = false
	if err := b.Exec.Forward(x, b.N); err != nil {
		return nil, err
	}
	b.logits2 = b.Exec.Logits(b.logits2)
	return b.logits2, nil
}

// inputGradient returns the gradient with respect to the input (N images) of the clean forward
// pass, started from the upstream gradient that seed returns at a tap ("" for the logits). key
// identifies the requester (a detector), and the result is valid until the next micro-batch.
//
// A backward pass needs the clean forward pass, which a perturbed forward pass overwrites. So the
// batch remembers every requester's seed, and when it runs backward passes on a clean pass it
// runs those of all requesters that asked on the previous micro-batch too: a detector scoring
// after another one's perturbed pass then finds its gradient ready instead of paying for a
// Restore. Seeds must depend only on the batch's Logits, Features and the requester's settings.
func (b *Batch) inputGradient(key any, seed func() (string, []float32, error)) ([]float32, error) {
	if b.pending == nil {
		b.pending = map[any]*pendingGrad{}
	}
	p := b.pending[key]
	if p == nil {
		p = &pendingGrad{}
		b.pending[key] = p
		b.order = append(b.order, key)
	}
	p.seed, p.asked = seed, b.gen
	if p.gen == b.gen {
		return p.in, nil
	}
	if err := b.Restore(); err != nil {
		return nil, err
	}
	for _, k := range b.order {
		q := b.pending[k]
		if q.gen == b.gen || (q != p && q.asked+1 < b.gen) {
			continue
		}
		tap, g, err := q.seed()
		if err != nil {
			return nil, err
		}
		if q.in, err = b.Exec.Backward(tap, g, q.in); err != nil {
			return nil, err
		}
		q.gen = b.gen
	}
	return p.in, nil
}

// Classes is the number of logits per image.
func (b *Batch) Classes() int { return b.Model.Classes() }

// Dim is the number of penultimate features per image, 0 if the network has no "features" tap.
func (b *Batch) Dim() int {
	return featureDim(b.Model)
}

// featureDim is the size of the model's "features" tap, 0 if it has none.
func featureDim(m *models.Model) int {
	s, ok := m.Graph.Taps()["features"]
	if !ok {
		return 0
	}
	return s.Size()
}

// features returns the batch's penultimate features, or an error naming the detector if the
// network has none.
func (b *Batch) features(method string) ([]float32, int, error) {
	d := b.Dim()
	if d == 0 || len(b.Features) < b.N*d {
		return nil, 0, fmt.Errorf("%s: network %s has no \"features\" tap", method, b.Model.Name)
	}
	return b.Features, d, nil
}

// f32 returns this batch's scratch buffer called key, grown to n values. Its contents are
// whatever the last user left.
func (b *Batch) f32(key string, n int) []float32 { return scratch(&b.s32, key, n) }

// f64 is f32 for float64 buffers.
func (b *Batch) f64(key string, n int) []float64 { return scratch(&b.s64, key, n) }

// ints is f32 for int buffers.
func (b *Batch) ints(key string, n int) []int { return scratch(&b.si, key, n) }

// scratch returns the buffer of m kept under key, with length n, growing it (and making m) if
// needed.
func scratch[T any](m *map[string][]T, key string, n int) []T {
	if *m == nil {
		*m = map[string][]T{}
	}
	s := grow((*m)[key], n)
	(*m)[key] = s
	return s
}

// workspace is the batch's GEMM workspace.
func (b *Batch) workspace() *gemm.Workspace {
	if b.ws == nil {
		b.ws = gemm.NewWorkspace()
	}
	return b.ws
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
