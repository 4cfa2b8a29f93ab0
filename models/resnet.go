package models

import (
	"fmt"

	"github.com/odin-ood/odin/nn"
)

// ResNetConfig describes a CIFAR ResNet (He et al., CVPR 2016, section 4.2): a 3×3 convolution
// to 16 channels, three stages of post-activation basic blocks with 16, 32 and 64 channels
// (strides 1, 2, 2) whose shortcuts are identities or, where the shape changes, option A: take
// every second pixel and zero-pad the channels. Then global average pooling and a linear layer.
// Depth = 6·(blocks per stage) + 2: 20, 32, 44, 56, 110.
type ResNetConfig struct {
	Depth, Classes int
}

func resNetFrom(p *params) (ResNetConfig, error) {
	n := p.count("layer1.")
	fc := p.shape("linear.weight")
	if n == 0 || len(fc) != 2 {
		return ResNetConfig{}, fmt.Errorf("not a CIFAR ResNet: layer1.0 or linear missing")
	}
	return ResNetConfig{Depth: 6*n + 2, Classes: fc[0]}, nil
}

func (c ResNetConfig) name() string { return fmt.Sprintf("ResNet-%d", c.Depth) }

func (c ResNetConfig) build(p *params) (*nn.Graph, error) {
	if c.Depth < 8 || (c.Depth-2)%6 != 0 {
		return nil, fmt.Errorf("invalid CIFAR ResNet depth %d", c.Depth)
	}
	blocks := (c.Depth - 2) / 6
	b := nn.NewBuilder(nn.Shape{C: 3, H: 32, W: 32})
	x := b.ReLU(p.bn(b, "bn1", p.conv(b, "conv1", b.Input(), 16, 3, 1, 1)))
	for s, width := range []int{16, 32, 64} {
		for l := range blocks {
			if p.failed() {
				return nil, p.err
			}
			pre := fmt.Sprintf("layer%d.%d.", s+1, l)
			stride := 1
			if l == 0 && s > 0 {
				stride = 2
			}
			h := b.ReLU(p.bn(b, pre+"bn1", p.conv(b, pre+"conv1", x, width, 3, stride, 1)))
			h = p.bn(b, pre+"bn2", p.conv(b, pre+"conv2", h, width, 3, 1, 1))
			short := x
			if stride != 1 || b.Shape(x).C != width {
				short = b.ShortcutA(x, width)
			}
			x = b.ReLU(b.Add(h, short))
		}
		b.Tap(fmt.Sprintf("layer%d", s+1), x)
	}
	f := b.GlobalAvgPool(x)
	b.Tap("features", f)
	return b.Build(p.linear(b, "linear", f, c.Classes))
}
