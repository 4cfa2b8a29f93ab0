package models

import (
	"fmt"

	"github.com/odin-ood/odin/nn"
)

// WideResNetConfig describes a Wide ResNet for 32×32 images (Zagoruyko & Komodakis, BMVC 2016):
// a 3×3 convolution to 16 channels, three groups of pre-activation basic blocks with 16·Widen,
// 32·Widen and 64·Widen channels (strides 1, 2, 2; a 1×1 shortcut convolution where the width or
// stride changes), then BN-ReLU, global average pooling and a linear layer.
// Depth = 6·(blocks per group) + 4. Dropout is an identity at inference and has no weights.
type WideResNetConfig struct {
	Depth, Widen, Classes int
}

func wideResNetFrom(p *params) (WideResNetConfig, error) {
	n := p.count("block1.layer.")
	w, fc := p.shape("block1.layer.0.conv1.weight"), p.shape("fc.weight")
	if n == 0 || len(w) != 4 || len(fc) != 2 || w[0]%16 != 0 {
		return WideResNetConfig{}, fmt.Errorf("not a Wide ResNet: block1.layer.0.conv1 or fc missing")
	}
	return WideResNetConfig{Depth: 6*n + 4, Widen: w[0] / 16, Classes: fc[0]}, nil
}

func (c WideResNetConfig) name() string { return fmt.Sprintf("WRN-%d-%d", c.Depth, c.Widen) }

func (c WideResNetConfig) build(p *params) (*nn.Graph, error) {
	if c.Depth < 10 || (c.Depth-4)%6 != 0 || c.Widen < 1 {
		return nil, fmt.Errorf("invalid Wide ResNet depth %d widen %d", c.Depth, c.Widen)
	}
	blocks := (c.Depth - 4) / 6
	b := nn.NewBuilder(nn.Shape{C: 3, H: 32, W: 32})
	x := p.conv(b, "conv1", b.Input(), 16, 3, 1, 1)
	for g, width := range []int{16 * c.Widen, 32 * c.Widen, 64 * c.Widen} {
		for l := range blocks {
			if p.failed() {
				return nil, p.err
			}
			pre := fmt.Sprintf("block%d.layer.%d.", g+1, l)
			stride := 1
			if l == 0 && g > 0 {
				stride = 2
			}
			a := b.ReLU(p.bn(b, pre+"bn1", x))
			h := p.conv(b, pre+"conv1", a, width, 3, stride, 1)
			h = p.conv(b, pre+"conv2", b.ReLU(p.bn(b, pre+"bn2", h)), width, 3, 1, 1)
			if b.Shape(x).C == width && stride == 1 {
				x = b.Add(x, h)
			} else {
				x = b.Add(p.conv(b, pre+"convShortcut", a, width, 1, stride, 0), h)
			}
		}
		b.Tap(fmt.Sprintf("block%d", g+1), x)
	}
	f := b.GlobalAvgPool(b.ReLU(p.bn(b, "bn1", x)))
	b.Tap("features", f)
	return b.Build(p.linear(b, "fc", f, c.Classes))
}
