package models

import "github.com/odin-ood/odin/nn"

// BatchNorm2d's epsilon in every architecture here (PyTorch's default).
const bnEps = 1e-5

// The layer helpers return x unchanged once a tensor has failed (params.failed): the network is
// refused, so nothing more is built.

func (p *params) bn(b *nn.Builder, name string, x nn.Value) nn.Value {
	c := b.Shape(x).C
	bn := nn.BatchNorm{
		Gamma: p.get(name+".weight", c), Beta: p.get(name+".bias", c),
		Mean: p.get(name+".running_mean", c), Var: p.get(name+".running_var", c), Eps: bnEps,
	}
	if p.failed() {
		return x
	}
	return b.BatchNorm(name, x, bn)
}

// conv reads name.weight (out×in×k×k) and, if present, name.bias.
func (p *params) conv(b *nn.Builder, name string, x nn.Value, out, k, stride, pad int) nn.Value {
	in := b.Shape(x).C
	c := nn.Conv{Out: out, KH: k, KW: k, Stride: stride, Pad: pad, Weight: p.get(name+".weight", out, in, k, k)}
	if p.has(name + ".bias") {
		c.Bias = p.get(name+".bias", out)
	}
	if p.failed() {
		return x
	}
	return b.Conv2d(name, x, c)
}

func (p *params) linear(b *nn.Builder, name string, x nn.Value, out int) nn.Value {
	in := b.Shape(x).C
	w, bias := p.get(name+".weight", out, in), p.get(name+".bias", out)
	if p.failed() {
		return x
	}
	return b.Linear(name, x, out, w, bias)
}
