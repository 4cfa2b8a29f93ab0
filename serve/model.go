package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// Model is one served classifier with its detectors and decision rule.
type Model struct {
	Name      string
	Net       *models.Model
	Threshold *decision.Threshold
	// Detectors are scored for every image; Detectors[0] is ODIN with the threshold's T and ε.
	Detectors []ood.Detector
	// Preprocess, if set, is the preprocessing LoadModel applied to Net (complete: mean, std
	// and scale filled in), whose resize and crop prepare encoded images. Without it a 32×32
	// network's encoded images are brought to 32×32 by Resize (the zero value refuses other
	// sizes), and a network of another size has them resized and cropped to its side.
	Preprocess *models.Preprocess
	Resize     dataset.ResizeMode
	// transform prepares encoded images, unless legacy (a 32×32 network without Preprocess).
	transform dataset.Transform
	legacy    bool
	config    ModelConfig
	b         *batcher
	met       *metrics
}

// Loader builds a network from a file of a format the models package does not read (ONNX),
// with the options its configuration gives.
type Loader func(path string, opt ONNXOptions) (*models.Model, error)

// ONNXOptions are what an ONNX file may need besides itself (ModelConfig.Features and
// InputShape): the value tapped as features (default: the input of the final Gemm or MatMul)
// and the input's C, H, W where the file leaves them symbolic.
type ONNXOptions struct {
	Features   string
	InputShape []int
}

// LoadModel builds a model from its configuration: the network, its threshold (which must have
// been calibrated on this checkpoint) and its detectors. onnx loads ONNX files; it may be nil.
// The model does not score until Start.
func LoadModel(c ModelConfig, onnx Loader) (*Model, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(c.Checkpoint), ".onnx") {
		// An ONNX file given as the checkpoint (odin serve --nn model.onnx) is one.
		c.ONNX, c.Checkpoint = c.Checkpoint, ""
	}
	if c.ONNX == "" && (c.Features != "" || c.InputShape != nil) {
		return nil, fmt.Errorf("model %s: features and input_shape apply to ONNX models only", c.Name)
	}
	file := c.Checkpoint
	var (
		net *models.Model
		err error
	)
	switch {
	case c.ONNX != "" && onnx == nil:
		return nil, fmt.Errorf("model %s: %s: %w", c.Name, c.ONNX, errNoONNX)
	case c.ONNX != "":
		file = c.ONNX
		net, err = onnx(c.ONNX, ONNXOptions{Features: c.Features, InputShape: c.InputShape})
	default:
		net, err = models.Load(c.Checkpoint, c.Arch)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.Name, err)
	}
	var pre *models.Preprocess
	if c.Preprocess != nil {
		p, err := experiment.ApplyPreprocess(net, *c.Preprocess)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", c.Name, err)
		}
		pre = &p
	}
	digest, err := decision.Digest(file)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.Name, err)
	}
	th, err := decision.Load(c.Threshold)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.Name, err)
	}
	if err := th.CheckNetwork(digest); err != nil {
		return nil, fmt.Errorf("model %s: threshold %s: %w", c.Name, c.Threshold, err)
	}
	if err := th.CheckPreprocess(preprocessJSON(pre)); err != nil {
		return nil, fmt.Errorf("model %s: threshold %s: %w", c.Name, c.Threshold, err)
	}
	dets, err := detectors(c, net, th, preprocessJSON(pre))
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.Name, err)
	}
	in := net.Graph.Input()
	m := &Model{Name: c.Name, Net: net, Threshold: th, Detectors: dets, Preprocess: pre, config: c,
		transform: experiment.ImageTransform(pre, in), legacy: pre == nil && in.H == dataset.Side && in.W == dataset.Side}
	if c.Resize != "" {
		f, err := dataset.ParseFilter(c.Resize)
		if err != nil {
			return nil, fmt.Errorf("model %s: resize: %w", c.Name, err)
		}
		m.Resize = dataset.ResizeMode{Filter: f, Antialias: c.Antialias}
	}
	return m, nil
}

// detectors returns ODIN with the threshold's parameters, then the config's other methods ("odin"
// among them is the same ODIN and is skipped); their statistics must have been fitted with the
// preprocessing pre (as preprocessJSON writes it) and on the config's feature tap.
func detectors(c ModelConfig, net *models.Model, th *decision.Threshold, pre string) ([]ood.Detector, error) {
	odin := th.Detector()
	if err := odin.Validate(); err != nil {
		return nil, err
	}
	dets := []ood.Detector{odin}
	if strings.TrimSpace(c.Methods) == "" {
		return dets, nil
	}
	names, err := ood.SplitMethods(c.Methods)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "odin" })
	if len(names) == 0 {
		return dets, nil
	}
	extra, err := ood.Parse(strings.Join(names, ","), ood.Options{Model: net, Features: c.Features, Preprocess: pre, Stats: func() (*ood.Stats, error) {
		if c.Stats == "" {
			return nil, errors.New("fitted detectors need a stats file (\"stats\")")
		}
		return ood.ReadStats(c.Stats)
	}})
	if err != nil {
		return nil, err
	}
	return append(dets, extra...), nil
}

// start launches the model's batcher; metrics may be nil.
func (m *Model) start(mt *metrics) {
	c := m.config
	maxBatch, queue, workers := c.MaxBatch, c.Queue, c.Workers
	if maxBatch == 0 {
		maxBatch = 8
	}
	if queue == 0 {
		queue = 256
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	delay := time.Duration(c.MaxQueueDelay)
	if delay == 0 {
		delay = time.Millisecond
	}
	budget := c.MaxQueueBytes
	if budget == 0 {
		budget = DefaultMaxQueueBytes
	}
	m.b = newBatcher(m.Net, m.Detectors, maxBatch, delay, queue, workers, budget)
	m.met = mt
	if mt != nil {
		m.b.observe = func(n int, waits []time.Duration) {
			mt.batchSize.WithLabelValues(m.Name).Observe(float64(n))
			for _, w := range waits {
				mt.queueWait.WithLabelValues(m.Name).Observe(w.Seconds())
			}
			mt.queued.WithLabelValues(m.Name).Set(float64(len(m.b.queue)))
		}
		m.b.dropped = func() { mt.dropped.WithLabelValues(m.Name).Inc() }
	}
}

// Scores are the results of a request's images.
type Scores struct {
	// ODIN holds the ODIN scores (higher = more in-distribution), OOD the decision
	// (score < δ), Class the predicted class, MSP the maximum softmax probability at T = 1.
	ODIN  []float64
	OOD   []bool
	Class []int64
	MSP   []float64
	// Logits holds N×K logits; Extra[d] the scores of Detectors[d+1].
	Logits []float32
	Extra  [][]float64
}

// Score scores n normalised images (each of the network's input shape C×H×W, channel-major)
// through the model's queue. It fails with ErrQueueFull (the queue or the byte budget is
// full), ErrClosed or the context's error.
func (m *Model) Score(ctx context.Context, x []float32, n int) (*Scores, error) {
	return m.score(ctx, x, n, true, nil)
}

// score is Score; record says whether the images count in the metrics (not the self-test's),
// and l is x's share of the byte budget if the caller took it (nil: score takes it).
func (m *Model) score(ctx context.Context, x []float32, n int, record bool, l *lease) (*Scores, error) {
	if m.b == nil {
		return nil, ErrClosed
	}
	if len(x) < n*m.Net.Graph.Input().Size() || n < 1 {
		l.release()
		return nil, fmt.Errorf("%d values for %d images", len(x), n)
	}
	res, err := m.b.submit(ctx, x, n, l)
	if err != nil {
		return nil, err
	}
	k := m.Net.Classes()
	s := &Scores{ODIN: make([]float64, n), OOD: make([]bool, n), Class: make([]int64, n), MSP: make([]float64, n),
		Logits: make([]float32, 0, n*k), Extra: make([][]float64, len(m.Detectors)-1)}
	for d := range s.Extra {
		s.Extra[d] = make([]float64, n)
	}
	for i, r := range res {
		s.ODIN[i] = r.scores[0]
		s.OOD[i] = !m.Threshold.Decide(r.scores[0])
		s.Class[i] = int64(ood.Argmax(r.logits))
		s.MSP[i] = ood.MaxSoftmax(r.logits, 1)
		s.Logits = append(s.Logits, r.logits...)
		for d := range s.Extra {
			s.Extra[d][i] = r.scores[d+1]
		}
	}
	if m.met != nil && record {
		m.met.scored(m.Name, s.ODIN, s.OOD)
	}
	return s, nil
}

// busy reports, without waiting, a full queue: requests then get 429 before their bodies are
// decoded, so that an overload costs as little CPU as possible. Score still checks properly.
func (m *Model) busy() error {
	if m.b != nil && len(m.b.queue) == cap(m.b.queue) {
		return ErrQueueFull
	}
	return nil
}

// SelfTestImage is the image of the readiness self-test for inputs of shape s: a fixed smooth
// colour gradient in [0,1], channel-major.
func SelfTestImage(s nn.Shape) []float32 {
	x := make([]float32, s.Size())
	for c := range s.C {
		for y := range s.H {
			for i := range s.W {
				v := [3]int{255 * i / max(1, s.W-1), 255 * y / max(1, s.H-1), 128 + 127*(i-y)/max(1, s.H+s.W)}[c%3]
				x[(c*s.H+y)*s.W+i] = float32(v) / 255
			}
		}
	}
	return x
}

// selfTest scores SelfTestImage through the queue and directly on a fresh engine, and requires
// the two to agree bit for bit, to be a valid score, and to equal the configured score if any.
func (m *Model) selfTest(ctx context.Context) error {
	shape := m.Net.Graph.Input()
	x := make([]float32, shape.Size())
	m.Net.Normalize(x, SelfTestImage(shape), 1)
	got, err := m.score(ctx, x, 1, false, nil)
	if err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	b := ood.NewBatch(m.Net, m.Net.Graph.NewExec(1))
	if err := b.LoadNormalized(x, 1); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	want := make([]float64, 1)
	if err := m.Detectors[0].Score(ctx, b, want); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	s, k := got.ODIN[0], float64(m.Net.Classes())
	switch {
	case math.Float64bits(s) != math.Float64bits(want[0]):
		return fmt.Errorf("self-test: served score %v differs from the engine's %v", s, want[0])
	case !(s >= 1/k*(1-1e-9) && s <= 1):
		return fmt.Errorf("self-test: score %v outside [1/K, 1]", s)
	case m.config.SelfTestScore != nil && *m.config.SelfTestScore != s:
		return fmt.Errorf("self-test: score %v, the configuration expects %v", s, *m.config.SelfTestScore)
	}
	return nil
}

// preprocessJSON is pre as threshold files record it (experiment.Network.PreprocessJSON), ""
// for the network's own.
func preprocessJSON(pre *models.Preprocess) string {
	if pre == nil {
		return ""
	}
	b, _ := json.Marshal(pre) // plain numbers and strings: cannot fail
	return string(b)
}
