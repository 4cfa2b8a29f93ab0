package nn

import (
	"fmt"
)

// Shape is the per-image shape of a value: channels, height and width. Features after global
// pooling and logits have H = W = 1.
type Shape struct{ C, H, W int }

// Size is the number of float32 elements of one image's value.
func (s Shape) Size() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// Value names the output of a node while a graph is being built.
type Value struct{ id int }

// node is one operation of the graph. Value id i is produced by node i; node 0 is the input.
type node struct {
	name   string
	op     op
	inputs []int
	shape  Shape
}

// Graph is a network as a directed acyclic graph of layers in topological order, with frozen
// weights. It is immutable once built and safe to share between goroutines; run it with an Exec.
type Graph struct {
	nodes  []node
	output int
	taps   map[string]int
	plan   *plan
}

// Input is the shape of one input image.
func (g *Graph) Input() Shape { return g.nodes[0].shape }

// Classes is the number of logits.
func (g *Graph) Classes() int { return g.nodes[g.output].shape.C }

// Taps lists the named intermediate values that an Exec can read and differentiate from.
func (g *Graph) Taps() map[string]Shape {
	m := make(map[string]Shape, len(g.taps))
	for k, id := range g.taps {
		m[k] = g.nodes[id].shape
	}
	return m
}

// Arithmetic names the algorithms this graph runs whose results differ in their last bits from
// those of earlier builds, "" when there are none: "winograd2x2" when a convolution runs
// Winograd F(2×2, 3×3), which builds before 2026-12-03 did not have. Caches of results record
// it, so that they never mix results of the two arithmetics.
func (g *Graph) Arithmetic() string {
	for _, st := range g.plan.steps {
		if c := stepConv(st.op); c != nil && (c.fwW2 != nil || c.bwW2 != nil) {
			return "winograd2x2"
		}
	}
	return ""
}

// stepConv returns the convolution a plan step runs, fused with an activation or not.
func stepConv(o op) *conv {
	if a, ok := o.(*activated); ok {
		o = a.inner
	}
	c, _ := o.(*conv)
	return c
}

// Linear returns the weights (K×C, row-major) and bias of the final Linear layer that produces
// the logits, so that detectors such as ReAct and ViM can reuse it on modified features.
// ok is false if the output is not produced by a Linear layer.
func (g *Graph) Linear() (weight, bias []float32, ok bool) {
	l, ok := g.nodes[g.output].op.(*linear)
	if !ok {
		return nil, nil, false
	}
	return l.w, l.b, true
}

// Builder assembles a Graph. Methods record the first error and keep returning harmless values,
// so that a model can be described in straight-line code and checked once in Build.
type Builder struct {
	nodes []node
	taps  map[string]int
	err   error
}

// NewBuilder starts a graph whose input images have the given shape.
func NewBuilder(in Shape) *Builder {
	return &Builder{nodes: []node{{name: "input", shape: in}}, taps: map[string]int{}}
}

// Input is the graph's input value.
func (b *Builder) Input() Value { return Value{0} }

// Err reports the first error recorded.
func (b *Builder) Err() error { return b.err }

func (b *Builder) fail(format string, a ...any) Value {
	if b.err == nil {
		b.err = fmt.Errorf(format, a...)
	}
	return Value{0}
}

func (b *Builder) shape(v Value) Shape { return b.nodes[v.id].shape }

func (b *Builder) add(name string, o op, shape Shape, in ...Value) Value {
	ids := make([]int, len(in))
	for i, v := range in {
		ids[i] = v.id
	}
	b.nodes = append(b.nodes, node{name: name, op: o, inputs: ids, shape: shape})
	return Value{len(b.nodes) - 1}
}

// Shape returns the per-image shape of v.
func (b *Builder) Shape(v Value) Shape { return b.shape(v) }

// Tap names v so that an Exec can read it and start a backward pass from it.
func (b *Builder) Tap(name string, v Value) {
	if _, dup := b.taps[name]; dup {
		b.fail("tap %q defined twice", name)
		return
	}
	b.taps[name] = v.id
}

// Build finishes the graph with out as its output (the logits) and compiles its execution plan.
func (b *Builder) Build(out Value) (*Graph, error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.shape(out)
	if s.H != 1 || s.W != 1 {
		return nil, fmt.Errorf("graph output must be a vector, got %v", s)
	}
	g := &Graph{nodes: b.nodes, output: out.id, taps: b.taps}
	g.plan = compile(g)
	return g, nil
}
