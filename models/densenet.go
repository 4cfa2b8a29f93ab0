package models

import (
	"fmt"
	"math"

	"github.com/odin-ood/odin/nn"
)

// DenseNetConfig describes a DenseNet-BC for 32×32 images (Huang et al., CVPR 2017): three dense
// blocks of bottleneck layers (BN-ReLU-Conv1×1 to 4·Growth channels, BN-ReLU-Conv3×3 to Growth),
// joined by transitions (BN-ReLU-Conv1×1 compressing by Compression, 2×2 average pooling), then
// BN-ReLU, global average pooling and a linear layer. Depth = 6·(layers per block) + 4.
type DenseNetConfig struct {
	Depth, Growth int
	Compression   float64
	Classes       int
}

// DenseNetBC100 is the seed's network: DenseNet-BC-100 with growth rate 12.
func DenseNetBC100(classes int) DenseNetConfig {
	return DenseNetConfig{Depth: 100, Growth: 12, Compression: 0.5, Classes: classes}
}

// denseNetFrom infers the configuration from tensor names and shapes.
func denseNetFrom(p *params) (DenseNetConfig, error) {
	n := p.count("block1.layer.")
	g, t, fc := p.shape("block1.layer.0.conv2.weight"), p.shape("trans1.conv1.weight"), p.shape("fc.weight")
	if n == 0 || len(g) != 4 || len(t) != 4 || len(fc) != 2 || t[1] == 0 {
		return DenseNetConfig{}, fmt.Errorf("not a DenseNet-BC: block1.layer.0, trans1 or fc missing")
	}
	return DenseNetConfig{Depth: 6*n + 4, Growth: g[0], Compression: float64(t[0]) / float64(t[1]), Classes: fc[0]}, nil
}

func (c DenseNetConfig) name() string {
	return fmt.Sprintf("DenseNet-BC-%d (k=%d)", c.Depth, c.Growth)
}

func (c DenseNetConfig) build(p *params) (*nn.Graph, error) {
	if c.Depth < 10 || (c.Depth-4)%6 != 0 || c.Growth < 1 || c.Compression <= 0 || c.Compression > 1 {
		return nil, fmt.Errorf("invalid DenseNet-BC depth %d growth %d compression %g", c.Depth, c.Growth, c.Compression)
	}
	layers := (c.Depth - 4) / 6
	b := nn.NewBuilder(nn.Shape{C: 3, H: 32, W: 32})
	x := p.conv(b, "conv1", b.Input(), 2*c.Growth, 3, 1, 1)
	for blk := 1; blk <= 3; blk++ {
		for l := range layers {
			if p.failed() {
				return nil, p.err
			}
			pre := fmt.Sprintf("block%d.layer.%d.", blk, l)
			h := p.conv(b, pre+"conv1", b.ReLU(p.bn(b, pre+"bn1", x)), 4*c.Growth, 1, 1, 0)
			h = p.conv(b, pre+"conv2", b.ReLU(p.bn(b, pre+"bn2", h)), c.Growth, 3, 1, 1)
			x = b.Concat(x, h)
		}
		b.Tap(fmt.Sprintf("block%d", blk), x)
		if blk < 3 {
			pre := fmt.Sprintf("trans%d.", blk)
			out := int(math.Floor(float64(b.Shape(x).C) * c.Compression))
			x = b.AvgPool(p.conv(b, pre+"conv1", b.ReLU(p.bn(b, pre+"bn1", x)), out, 1, 1, 0), 2)
		}
	}
	f := b.GlobalAvgPool(b.ReLU(p.bn(b, "bn1", x)))
	b.Tap("features", f)
	return b.Build(p.linear(b, "fc", f, c.Classes))
}
