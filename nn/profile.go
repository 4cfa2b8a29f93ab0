package nn

import (
	"fmt"
	"runtime"
	"time"
)

// StepTime is what one step of a network's execution plan cost in Exec.Profile. A step is one
// layer after fusion: a convolution carries the batch norm and clamp folded into it, and a
// concatenation is no step at all (its inputs are written in place).
type StepTime struct {
	Step     int    // position in the plan, in forward order
	Name     string // the layer whose output the step produces (an ONNX node's name, for instance)
	Kind     string // the kind of computation, e.g. "conv 1×1" or "depthwise 3×3"; steps are summed by it
	Op       string // the kind with its sizes and the algorithm that runs it
	Out      Shape  // per image
	Forward  time.Duration
	Backward time.Duration // zero for steps the input gradient does not pass through
}

// Profile times every step of a forward pass on the n images x (as Forward takes them) and of
// the backward pass from grad (the gradient of the n×Classes logits, as Backward takes it),
// rounds times, and returns each step's fastest time for the whole micro-batch, in plan order.
// The fastest of several runs is what a step costs with the least interference from other work
// on the machine. The Exec is left holding x's forward pass, as after Forward.
//
// Steps run one by one on the calling goroutine, locked to its thread, with a clock read
// around each; the result is for finding where the time goes, not for throughput (see Pool).
func (e *Exec) Profile(x []float32, n int, grad []float32, rounds int) ([]StepTime, error) {
	if err := e.Forward(x, n); err != nil {
		return nil, err
	}
	if k := e.g.nodes[e.g.output].shape.Size(); len(grad) < n*k {
		return nil, fmt.Errorf("nn: %d gradient values for %d images of %d logits", len(grad), n, k)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	steps := e.g.plan.steps
	fw, bw := make([]time.Duration, len(steps)), make([]time.Duration, len(steps))
	out := make([]StepTime, len(steps))
	for i, st := range steps {
		kind, op := describe(st.op)
		out[i] = StepTime{Step: i, Name: e.stepName(st), Kind: kind, Op: op, Out: e.g.plan.shape[st.out]}
	}
	var gin []float32
	for r := range max(rounds, 1) {
		e.forward(fw)
		var err error
		if gin, err = e.backward("", grad, gin, bw); err != nil {
			return nil, err
		}
		for i := range out {
			if r == 0 || fw[i] < out[i].Forward {
				out[i].Forward = fw[i]
			}
			if r == 0 || bw[i] < out[i].Backward {
				out[i].Backward = bw[i]
			}
		}
	}
	return out, nil
}

// stepName is the name of the layer a step computes: for a clamp fused into the layer before
// it, that layer's (an exporter names the convolution, not its ReLU).
func (e *Exec) stepName(st step) string {
	nd := e.g.nodes[st.out]
	if _, ok := st.op.(*activated); ok && len(nd.inputs) > 0 {
		return e.g.nodes[nd.inputs[0]].name
	}
	return nd.name
}

// describe names what a step computes: its kind, and the kind with sizes and algorithm.
func describe(o op) (kind, detail string) {
	switch c := o.(type) {
	case *activated:
		k, d := describe(c.inner)
		return k, d + " + clamp"
	case *conv:
		base := fmt.Sprintf("conv %d×%d", c.kh, c.kw)
		if c.stride > 1 {
			base += fmt.Sprintf(" stride %d", c.stride)
		}
		kind, alg := base, "im2col and matrix product"
		switch {
		case c.pointwise:
			alg = "matrix product"
		case c.fwWino != nil:
			kind, alg = base+" Winograd", "Winograd F(4×4, 3×3)"
		case c.fwW2 != nil:
			kind, alg = base+" Winograd", "Winograd F(2×2, 3×3)"
		case c.fwDirect:
			alg = "direct"
		}
		if c.pre != nil {
			pre := "batch norm"
			if c.pre.relu {
				pre += " and ReLU"
			}
			alg = pre + " of its input as it is read, " + alg
		}
		return kind, fmt.Sprintf("%s, %d→%d, %s", base, c.cin, c.cout, alg)
	case *gconv:
		k := fmt.Sprintf("grouped conv %d×%d", c.kh, c.kw)
		if c.depthwise {
			k = fmt.Sprintf("depthwise %d×%d", c.kh, c.kw)
		}
		if c.sh > 1 || c.sw > 1 {
			k += fmt.Sprintf(" stride %d", max(c.sh, c.sw))
		}
		return k, fmt.Sprintf("%s, %d→%d, %d groups", k, c.cin, c.cout, c.groups)
	case *maxPool:
		return "max pool", fmt.Sprintf("max pool %d×%d/%d", c.kh, c.kw, c.sh)
	case *avgPool2d:
		return "average pool", fmt.Sprintf("average pool %d×%d/%d", c.kh, c.kw, c.sh)
	case *avgPool:
		return "average pool", fmt.Sprintf("average pool %d×%d", c.k, c.k)
	case *globalPool:
		return "global average pool", "global average pool"
	case *linear:
		return "linear", fmt.Sprintf("linear %d→%d", c.in, c.out)
	case add:
		return "residual sum", "residual sum"
	case *unary:
		return unaryNames[c.kind], unaryNames[c.kind]
	case *binary:
		return binNames[c.kind], c.String()
	case *affine:
		return "batch norm", "batch norm (inference)"
	}
	name := fmt.Sprintf("%T", o)
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			name = name[i+1:]
			break
		}
	}
	return name, name
}
