package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/odin-ood/odin/checkpoint"
)

// randomTensors returns a state dict for cfg (a DenseNetConfig, WideResNetConfig or
// ResNetConfig) with random weights, named and shaped as the PyTorch modules of
// testdata/gen_torch.py name and shape them, so that models can be built without data.
func randomTensors(cfg any, seed uint64) map[string]*checkpoint.Tensor {
	s := &stateDict{m: map[string]*checkpoint.Tensor{}, r: rand.New(rand.NewPCG(seed, 1))}
	switch c := cfg.(type) {
	case DenseNetConfig:
		layers := (c.Depth - 4) / 6
		ch := 2 * c.Growth
		s.conv("conv1", ch, 3, 3)
		for blk := 1; blk <= 3; blk++ {
			for l := range layers {
				pre := fmt.Sprintf("block%d.layer.%d.", blk, l)
				s.bn(pre+"bn1", ch)
				s.conv(pre+"conv1", 4*c.Growth, ch, 1)
				s.bn(pre+"bn2", 4*c.Growth)
				s.conv(pre+"conv2", c.Growth, 4*c.Growth, 3)
				ch += c.Growth
			}
			if blk < 3 {
				out := int(math.Floor(float64(ch) * c.Compression))
				s.bn(fmt.Sprintf("trans%d.bn1", blk), ch)
				s.conv(fmt.Sprintf("trans%d.conv1", blk), out, ch, 1)
				ch = out
			}
		}
		s.bn("bn1", ch)
		s.linear("fc", c.Classes, ch)
	case WideResNetConfig:
		blocks := (c.Depth - 4) / 6
		s.conv("conv1", 16, 3, 3)
		in := 16
		for g, w := range []int{16 * c.Widen, 32 * c.Widen, 64 * c.Widen} {
			for l := range blocks {
				pre := fmt.Sprintf("block%d.layer.%d.", g+1, l)
				s.bn(pre+"bn1", in)
				s.conv(pre+"conv1", w, in, 3)
				s.bn(pre+"bn2", w)
				s.conv(pre+"conv2", w, w, 3)
				if in != w || (l == 0 && g > 0) {
					s.conv(pre+"convShortcut", w, in, 1)
				}
				in = w
			}
		}
		s.bn("bn1", in)
		s.linear("fc", c.Classes, in)
	case ResNetConfig:
		blocks := (c.Depth - 2) / 6
		s.conv("conv1", 16, 3, 3)
		s.bn("bn1", 16)
		in := 16
		for st, w := range []int{16, 32, 64} {
			for l := range blocks {
				pre := fmt.Sprintf("layer%d.%d.", st+1, l)
				s.conv(pre+"conv1", w, in, 3)
				s.bn(pre+"bn1", w)
				s.conv(pre+"conv2", w, w, 3)
				s.bn(pre+"bn2", w)
				in = w
			}
		}
		s.linear("linear", c.Classes, 64)
	default:
		panic(fmt.Sprintf("randomTensors: unknown config %T", cfg))
	}
	return s.m
}

type stateDict struct {
	m map[string]*checkpoint.Tensor
	r *rand.Rand
}

func (s *stateDict) put(name string, scale, offset float64, shape ...int) {
	t := &checkpoint.Tensor{Shape: shape, Data: make([]float32, numel(shape))}
	for i := range t.Data {
		t.Data[i] = float32(offset + scale*s.r.NormFloat64())
	}
	s.m[name] = t
}

// conv uses He initialisation, so activations keep their scale through deep networks.
func (s *stateDict) conv(name string, out, in, k int) {
	s.put(name+".weight", math.Sqrt(2/float64(in*k*k)), 0, out, in, k, k)
}

func (s *stateDict) bn(name string, c int) {
	s.put(name+".weight", 0.1, 1, c)
	s.put(name+".bias", 0.1, 0, c)
	s.put(name+".running_mean", 0.1, 0, c)
	s.put(name+".running_var", 0.1, 1, c)
	for i, v := range s.m[name+".running_var"].Data {
		s.m[name+".running_var"].Data[i] = float32(math.Abs(float64(v)))
	}
	// PyTorch ≥ 0.4 stores a step counter the models ignore.
	s.m[name+".num_batches_tracked"] = &checkpoint.Tensor{Shape: []int{}, Data: []float32{0}}
}

func (s *stateDict) linear(name string, out, in int) {
	s.put(name+".weight", math.Sqrt(1/float64(in)), 0, out, in)
	s.put(name+".bias", 0.1, 0, out)
}

// numel is the number of elements of a tensor of shape s.
func numel(s []int) int {
	n, _ := prod(s)
	return n
}
