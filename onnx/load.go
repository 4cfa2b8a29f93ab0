package onnx

import (
	"container/heap"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
)

// Opset versions of the default domain that odin reads: 7 (the oldest PyTorch 1.13 exports) to
// the newest in the specification it was written against (ONNX 1.23).
const (
	MinOpset = 7
	MaxOpset = 28
)

// Default limits on what a model may make odin allocate.
const (
	DefaultMaxFileBytes      = 2 << 30 // a ModelProto may not exceed 2 GiB (protobuf's limit)
	DefaultMaxTensorElements = 1 << 28 // 1 GiB of float32 in one tensor
)

// Options adjust how a model is imported. The zero value is usable.
type Options struct {
	// InputShape gives the input's C, H, W (or N, C, H, W; N is ignored) where the model leaves
	// them symbolic. A dimension the model fixes must agree. 0 entries mean "from the model".
	InputShape []int
	// Features names the node (or value) whose output the detectors read as features; by default
	// the input of the final Gemm or MatMul.
	Features string
	// Mean and Std of the normalisation the model expects; zero means ImageNet's.
	Mean, Std [3]float32
	// MaxTensorElements bounds every tensor, constant or computed; 0 means DefaultMaxTensorElements.
	MaxTensorElements int64
}

// Report tells what the import found and did.
type Report struct {
	Producer    string         // e.g. "pytorch 1.13.0"
	Opset       int64          // of the default domain
	InputName   string         // the graph input that takes the images
	Input       nn.Shape       // per-image input shape
	Batch       string         // the batch dimension as declared: a number, or its symbolic name
	Features    string         // the value tapped as "features", and its producing node
	Ops         map[string]int // ONNX operators in the model, by type
	Layers      map[string]int // layers of the odin graph, by type
	Params      int64          // parameters (initializer elements that feed the graph)
	FLOPs       int64          // per image, forward pass: 2 × multiply-adds of convolutions and linear layers
	Notes       []string       // things the user should be told once, e.g. a removed Softmax
	Unsupported []string       // "Op (node name)" for each unsupported operator; Load fails if any
}

// ODINFLOPs estimates the FLOPs of one ODIN step per image: a forward pass, the backward pass to
// the input (as costly as the forward pass for convolutions and linear layers) and the forward
// pass of the perturbed image.
func (r *Report) ODINFLOPs() int64 { return 3 * r.FLOPs }

// Load reads an ONNX model file (and any external data beside it) and builds an odin model.
func Load(path string, opt Options) (*models.Model, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > DefaultMaxFileBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, more than an ONNX file may hold", filepath.Base(path), st.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, DefaultMaxFileBytes))
	if err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	m, rep, err := decode(b, &externalReader{root: root}, opt)
	if err != nil {
		return nil, rep, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	// Exporters name graphs generically ("torch_jit"): the file says more.
	m.Name = filepath.Base(path)
	return m, rep, nil
}

// Decode builds an odin model from a serialized ONNX model held in memory. A model with external
// data needs its folder: use Load.
func Decode(b []byte, opt Options) (*models.Model, *Report, error) {
	return decode(b, nil, opt)
}

func decode(b []byte, ext *externalReader, opt Options) (*models.Model, *Report, error) {
	pm, err := DecodeModel(b)
	if err != nil {
		return nil, nil, err
	}
	return build(pm, ext, opt)
}

// build turns a parsed model into an odin model.
func build(pm *Model, ext *externalReader, opt Options) (*models.Model, *Report, error) {
	l, err := newLoader(pm, ext, opt)
	if err != nil {
		return nil, l.rep, err
	}
	if err := l.run(); err != nil {
		return nil, l.rep, err
	}
	name := pm.Graph.Name
	if name == "" {
		name = "onnx"
	}
	m := &models.Model{Name: name, Arch: "onnx", Graph: l.graph, Mean: models.ImageNetMean, Std: models.ImageNetStd}
	if opt.Mean != [3]float32{} || opt.Std != [3]float32{} {
		m.Mean, m.Std = opt.Mean, opt.Std
	}
	return m, l.rep, nil
}

// loader holds the state of one import.
type loader struct {
	pm      *Model
	opt     Options
	limit   int64
	folded  int64 // elements of the constants folded so far
	ext     *externalReader
	rep     *Report
	inits   map[string]*Tensor
	consts  map[string]*tensor
	dyns    map[string]*dyn
	order   []*Node
	uses    map[string]int    // consumers of each value name
	linIn   map[string]string // output of a mapped final-layer candidate → its input value
	b       *nn.Builder
	graph   *nn.Graph
	inName  string
	outName string
}

func newLoader(pm *Model, ext *externalReader, opt Options) (*loader, error) {
	l := &loader{pm: pm, opt: opt, ext: ext, limit: opt.MaxTensorElements,
		rep:    &Report{Ops: map[string]int{}, Layers: map[string]int{}, Producer: strings.TrimSpace(pm.Producer + " " + pm.ProducerVersion)},
		inits:  map[string]*Tensor{},
		consts: map[string]*tensor{}, dyns: map[string]*dyn{}, uses: map[string]int{}, linIn: map[string]string{}}
	if l.limit <= 0 {
		l.limit = DefaultMaxTensorElements
	}
	if err := l.checkOpsets(); err != nil {
		return l, err
	}
	g := &pm.Graph
	for _, t := range g.Initializers {
		l.inits[t.Name] = t
	}
	for i := range g.Nodes {
		l.rep.Ops[g.Nodes[i].OpType]++
		for _, in := range g.Nodes[i].Inputs {
			l.uses[in]++
		}
	}
	if len(g.Outputs) != 1 {
		return l, fmt.Errorf("graph has %d outputs, want 1 (the logits)", len(g.Outputs))
	}
	l.outName = g.Outputs[0].Name
	l.uses[l.outName]++
	if err := l.findInput(); err != nil {
		return l, err
	}
	if err := l.sort(); err != nil {
		return l, err
	}
	return l, l.checkSupported()
}

func (l *loader) checkOpsets() error {
	v, ok := l.pm.Opsets[""]
	if !ok {
		v, ok = l.pm.Opsets["ai.onnx"]
	}
	if !ok {
		return fmt.Errorf("model imports no version of the default operator set")
	}
	if v < MinOpset || v > MaxOpset {
		return fmt.Errorf("opset %d not supported (odin reads opsets %d to %d)", v, MinOpset, MaxOpset)
	}
	l.rep.Opset = v
	return nil
}

// findInput picks the image input: the one graph input that is not an initializer, float, of
// shape [N, C, H, W].
func (l *loader) findInput() error {
	var ins []ValueInfo
	for _, vi := range l.pm.Graph.Inputs {
		if _, w := l.inits[vi.Name]; !w {
			ins = append(ins, vi)
		}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, vi := range ins {
			names[i] = vi.Name
		}
		return fmt.Errorf("model has %d inputs (%s), want one image input", len(ins), strings.Join(names, ", "))
	}
	vi := ins[0]
	l.inName, l.rep.InputName = vi.Name, vi.Name
	notImage := func(why string) error {
		return fmt.Errorf("input %s is not an image tensor [N,C,H,W]: %s", vi.Name, why)
	}
	if vi.ElemType != typeFloat {
		return notImage(fmt.Sprintf("element type %d, want float", vi.ElemType))
	}
	if !vi.HasShape || len(vi.Dims) != 4 {
		return notImage(fmt.Sprintf("shape %s", dimsString(vi.Dims, vi.HasShape)))
	}
	given := l.opt.InputShape
	if len(given) == 4 {
		given = given[1:]
	}
	if len(given) != 0 && len(given) != 3 {
		return fmt.Errorf("input shape %v: want C,H,W", l.opt.InputShape)
	}
	var chw [3]int
	for i := range 3 {
		d := vi.Dims[i+1]
		g := 0
		if len(given) == 3 {
			g = given[i]
		}
		switch {
		case d.Value > 0 && g > 0 && int64(g) != d.Value:
			return fmt.Errorf("input %s: dimension %d is %d in the model, %d given", vi.Name, i+1, d.Value, g)
		case d.Value > 0:
			chw[i] = int(d.Value)
		case g > 0:
			chw[i] = g
		default:
			return fmt.Errorf("input %s: dimension %d is symbolic (%s): give the input shape", vi.Name, i+1, dimsString(vi.Dims, true))
		}
		if chw[i] > 1<<16 {
			return notImage(fmt.Sprintf("dimension %d is %d", i+1, chw[i]))
		}
	}
	if chw[0] > 64 {
		return notImage(fmt.Sprintf("%d channels", chw[0]))
	}
	b := vi.Dims[0]
	switch {
	case b.Param != "":
		l.rep.Batch = b.Param
	case b.Value > 0:
		l.rep.Batch = fmt.Sprint(b.Value)
	default:
		l.rep.Batch = "?"
	}
	l.rep.Input = nn.Shape{C: chw[0], H: chw[1], W: chw[2]}
	if int64(l.rep.Input.Size()) > l.limit {
		return notImage(fmt.Sprintf("%v is too large", l.rep.Input))
	}
	return nil
}

func dimsString(ds []Dim, has bool) string {
	if !has {
		return "unknown"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		switch {
		case d.Param != "":
			s[i] = d.Param
		case d.Value > 0:
			s[i] = fmt.Sprint(d.Value)
		default:
			s[i] = "?"
		}
	}
	return "[" + strings.Join(s, ",") + "]"
}

// sort orders the nodes topologically (Kahn's algorithm, stable in file order) and refuses
// cycles and values that nothing defines.
func (l *loader) sort() error {
	nodes := l.pm.Graph.Nodes
	producer := map[string]int{}
	for i := range nodes {
		for _, o := range nodes[i].Outputs {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup || o == l.inName || l.inits[o] != nil {
				return fmt.Errorf("value %s is defined twice (again by node %s)", o, nodeName(&nodes[i]))
			}
			producer[o] = i
		}
	}
	pending := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i := range nodes {
		for _, in := range nodes[i].Inputs {
			if in == "" || in == l.inName || l.inits[in] != nil {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return fmt.Errorf("node %s uses value %s, which nothing defines", nodeName(&nodes[i]), in)
			}
			pending[i]++
			users[p] = append(users[p], i)
		}
	}
	ready := &intHeap{}
	for i := range nodes {
		if pending[i] == 0 {
			ready.s = append(ready.s, i)
		}
	}
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		l.order = append(l.order, &nodes[i])
		for _, u := range users[i] {
			if pending[u]--; pending[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(l.order) != len(nodes) {
		for i := range nodes {
			if pending[i] > 0 {
				return fmt.Errorf("graph has a cycle through node %s", nodeName(&nodes[i]))
			}
		}
	}
	if _, ok := producer[l.outName]; !ok {
		return fmt.Errorf("no node computes the output %s", l.outName)
	}
	return nil
}

func nodeName(n *Node) string {
	if n.Name != "" {
		return fmt.Sprintf("%s (%s)", n.Name, n.OpType)
	}
	if len(n.Outputs) > 0 {
		return fmt.Sprintf("%s (%s)", n.Outputs[0], n.OpType)
	}
	return n.OpType
}

// checkSupported refuses, in one line, a model with operators odin cannot run.
func (l *loader) checkSupported() error {
	seen := map[string]bool{}
	for _, n := range l.order {
		key := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			key = n.Domain + "." + n.OpType
		}
		if supported[key] || seen[key] {
			continue
		}
		seen[key] = true
		name := n.Name
		if name == "" && len(n.Outputs) > 0 {
			name = n.Outputs[0]
		}
		l.rep.Unsupported = append(l.rep.Unsupported, fmt.Sprintf("%s (node %s)", key, name))
	}
	if len(l.rep.Unsupported) > 0 {
		return fmt.Errorf("unsupported operators: %s", strings.Join(l.rep.Unsupported, ", "))
	}
	return nil
}

// run evaluates constants and maps the rest of the graph onto an nn.Builder.
func (l *loader) run() error {
	l.b = nn.NewBuilder(l.rep.Input)
	s := l.rep.Input
	l.dyns[l.inName] = &dyn{v: l.b.Input(), dims: []int{batchDim, s.C, s.H, s.W}}
	for _, n := range l.order {
		if err := l.node(n); err != nil {
			return fmt.Errorf("node %s: %w", nodeName(n), err)
		}
		if err := l.b.Err(); err != nil {
			return fmt.Errorf("node %s: %w", nodeName(n), err)
		}
	}
	out, ok := l.dyns[l.outName]
	if !ok {
		return fmt.Errorf("output %s does not depend on the input", l.outName)
	}
	if len(out.dims) != 2 {
		return fmt.Errorf("output %s has shape %v, want [N, classes]", l.outName, showDims(out.dims))
	}
	if err := l.tapFeatures(); err != nil {
		return err
	}
	g, err := l.b.Build(out.v)
	if err != nil {
		return err
	}
	l.graph = g
	return nil
}

// tapFeatures names the detectors' feature value: by default the input of the final linear
// layer, else the value or node Options.Features names.
func (l *loader) tapFeatures() error {
	name := l.opt.Features
	if name == "" {
		in, ok := l.linIn[l.outName]
		if !ok {
			return nil
		}
		name = in
	} else if _, ok := l.dyns[name]; !ok {
		for _, n := range l.order {
			if n.Name == name && len(n.Outputs) > 0 {
				name = n.Outputs[0]
				break
			}
		}
	}
	d, ok := l.dyns[name]
	if !ok {
		return fmt.Errorf("features: no computed value or node named %s", name)
	}
	l.b.Tap("features", d.v)
	l.rep.Features = fmt.Sprintf("%s (%v)", name, l.b.Shape(d.v))
	return nil
}

// intHeap is a min-heap of node indices: ready nodes leave in file order.
type intHeap struct{ s []int }

func (h *intHeap) Len() int           { return len(h.s) }
func (h *intHeap) Less(i, j int) bool { return h.s[i] < h.s[j] }
func (h *intHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *intHeap) Push(x any)         { h.s = append(h.s, x.(int)) }
func (h *intHeap) Pop() any {
	v := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return v
}
