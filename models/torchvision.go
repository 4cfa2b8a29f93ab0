package models

import (
	"fmt"
	"math"
	"strings"

	"github.com/odin-ood/odin/checkpoint"
	"github.com/odin-ood/odin/nn"
)

// Architectures of PyTorch state_dicts that need no ONNX export.
const (
	// ArchTorchvisionResNet is torchvision's ImageNet ResNet (He et al. 2016; ResNet-18/34 with
	// basic blocks, 50/101/152 with bottlenecks, stride on the 3×3 convolution as torchvision's
	// "v1.5"): a 7×7 stride-2 stem, a 3×3 stride-2 max-pool, four stages of 64, 128, 256 and 512
	// (×4 for bottlenecks) channels, global average pooling and fc.
	ArchTorchvisionResNet = "torchvision_resnet"
	// ArchOpenOODResNet18 is OpenOOD v1.5's ResNet18_32x32, the CIFAR model of today's OOD
	// benchmarks: a 3×3 stride-1 stem without max-pool, basic blocks [2, 2, 2, 2] with 1×1
	// convolution shortcuts where the shape changes, global average pooling and fc.
	ArchOpenOODResNet18 = "openood_resnet18_32x32"
)

// Normalisation that OpenOOD v1.5 applies to CIFAR-10 inputs.
var (
	OpenOODCIFAR10Mean = [3]float32{0.4914, 0.4822, 0.4465}
	OpenOODCIFAR10Std  = [3]float32{0.2470, 0.2435, 0.2616}
)

// inferExtra recognises the layouts of this file: both name their classifier fc and their
// stages layer1…layer4 (the CIFAR ResNets have three stages and "linear"); the stem's kernel
// tells them apart.
func inferExtra(p *params) string {
	if !p.hasPrefix("layer4.0.") || !p.has("fc.weight") || p.has("linear.weight") || len(p.shape("layer4.0.conv1.weight")) != 4 {
		return "" // the CIFAR ResNets' classifier is "linear"
	}
	switch s := p.shape("conv1.weight"); {
	case len(s) == 4 && s[2] == 7:
		return ArchTorchvisionResNet
	case len(s) == 4 && s[2] == 3:
		return ArchOpenOODResNet18
	}
	return ""
}

// ImageResNetConfig describes a torchvision ResNet or OpenOOD's ResNet18_32x32.
type ImageResNetConfig struct {
	Blocks [4]int
	// Stem is the stem's output channels and Widths each stage's inner width (64 and 64, 128,
	// 256, 512 in the published networks; read from the tensors, so that wide and narrow
	// variants load too). A bottleneck's output has 4× its inner width.
	Stem       int
	Widths     [4]int
	Bottleneck bool
	Classes    int
	// CIFARStem is OpenOOD's 3×3 stride-1 stem without max-pool; else torchvision's.
	CIFARStem bool
	// Size is the side of the square input images: 224 for ImageNet, 32 for CIFAR.
	Size int
}

func imageResNetFrom(p *params, arch string, size int) (ImageResNetConfig, error) {
	c := ImageResNetConfig{Bottleneck: p.has("layer1.0.conv3.weight"), CIFARStem: arch == ArchOpenOODResNet18, Size: size}
	for i := range 4 {
		c.Blocks[i] = p.count(fmt.Sprintf("layer%d.", i+1))
		w := p.shape(fmt.Sprintf("layer%d.0.conv1.weight", i+1))
		if c.Blocks[i] == 0 || len(w) != 4 || w[0] <= 0 {
			return c, fmt.Errorf("not a ResNet: layer%d.0.conv1 missing", i+1)
		}
		c.Widths[i] = w[0]
	}
	fc := p.shape("fc.weight")
	if len(fc) != 2 {
		return c, fmt.Errorf("not a ResNet: fc.weight missing")
	}
	c.Classes = fc[0]
	if s := p.shape("conv1.weight"); len(s) == 4 && s[0] > 0 {
		c.Stem = s[0]
	} else {
		return c, fmt.Errorf("not a ResNet: conv1.weight missing")
	}
	if c.Size == 0 {
		c.Size = 224
		if c.CIFARStem {
			c.Size = 32
		}
	}
	return c, nil
}

func (c ImageResNetConfig) name() string {
	per := 2
	if c.Bottleneck {
		per = 3
	}
	n := 0
	for _, b := range c.Blocks {
		n += b
	}
	if c.CIFARStem {
		return fmt.Sprintf("ResNet-%d (32×32, OpenOOD)", per*n+2)
	}
	return fmt.Sprintf("ResNet-%d (torchvision)", per*n+2)
}

func (c ImageResNetConfig) build(p *params) (*nn.Graph, error) {
	if c.Size < 8 || c.Size > 4096 {
		return nil, fmt.Errorf("input size %d out of range [8, 4096]", c.Size)
	}
	b := nn.NewBuilder(nn.Shape{C: 3, H: c.Size, W: c.Size})
	var x nn.Value
	if c.CIFARStem {
		x = b.ReLU(p.convBN(b, "conv1", "bn1", b.Input(), c.Stem, 3, 1, 1))
	} else {
		x = b.ReLU(p.convBN(b, "conv1", "bn1", b.Input(), c.Stem, 7, 2, 3))
		x = b.MaxPool(x, nn.Pool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, Pads: []int{1, 1, 1, 1}})
	}
	for s, width := range c.Widths {
		for l := range c.Blocks[s] {
			if p.failed() {
				return nil, p.err
			}
			stride := 1
			if l == 0 && s > 0 {
				stride = 2
			}
			x = c.block(b, p, fmt.Sprintf("layer%d.%d.", s+1, l), x, width, stride)
		}
		b.Tap(fmt.Sprintf("layer%d", s+1), x)
	}
	f := b.GlobalAvgPool(x)
	b.Tap("features", f)
	return b.Build(p.linear(b, "fc", f, c.Classes))
}

// block is a basic block or a bottleneck, with a 1×1 projection shortcut (torchvision's
// "downsample", OpenOOD's "shortcut") where its shape changes.
func (c ImageResNetConfig) block(b *nn.Builder, p *params, pre string, x nn.Value, width, stride int) nn.Value {
	out := width
	var h nn.Value
	if c.Bottleneck {
		out = 4 * width
		h = b.ReLU(p.convBN(b, pre+"conv1", pre+"bn1", x, width, 1, 1, 0))
		h = b.ReLU(p.convBN(b, pre+"conv2", pre+"bn2", h, width, 3, stride, 1))
		h = p.convBN(b, pre+"conv3", pre+"bn3", h, out, 1, 1, 0)
	} else {
		h = b.ReLU(p.convBN(b, pre+"conv1", pre+"bn1", x, width, 3, stride, 1))
		h = p.convBN(b, pre+"conv2", pre+"bn2", h, width, 3, 1, 1)
	}
	short := x
	if stride != 1 || b.Shape(x).C != out {
		sc := pre + "downsample."
		if c.CIFARStem {
			sc = pre + "shortcut."
		}
		short = p.convBN(b, sc+"0", sc+"1", x, out, 1, stride, 0)
	}
	if p.failed() {
		return x
	}
	return b.ReLU(b.Add(h, short))
}

// FromTensorsAt builds a torchvision ResNet or OpenOOD ResNet18_32x32 (arch is
// ArchTorchvisionResNet or ArchOpenOODResNet18, or "" to infer which) for square inputs of the
// given side (0: 224 for torchvision, 32 for OpenOOD). Both end in global average pooling, so
// any side that survives the strides works. The model normalises with ImageNet's statistics
// (torchvision) or OpenOOD's CIFAR-10 ones.
func FromTensorsAt(tensors map[string]*checkpoint.Tensor, arch string, size int) (*Model, error) {
	p := newParams(tensors)
	if arch == "" {
		arch = inferExtra(p)
	}
	m := &Model{Arch: arch, Mean: ImageNetMean, Std: ImageNetStd}
	switch arch {
	case ArchTorchvisionResNet:
	case ArchOpenOODResNet18:
		m.Mean, m.Std = OpenOODCIFAR10Mean, OpenOODCIFAR10Std
	default:
		return nil, fmt.Errorf("unknown architecture %q (valid here: %s)", arch, strings.Join([]string{ArchTorchvisionResNet, ArchOpenOODResNet18}, ", "))
	}
	c, err := imageResNetFrom(p, arch, size)
	if err != nil {
		return nil, err
	}
	g, err := c.build(p)
	if p.err != nil {
		return nil, fmt.Errorf("%s: %w", c.name(), p.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	if err := p.leftover(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	m.Name, m.Graph = c.name(), g
	return m, nil
}

// convBN reads a convolution (conv.weight, optional conv.bias) and the inference batch norm that
// follows it, and appends one convolution with the normalisation folded into its weights and
// bias, as an ONNX export does: w′ = w·γ/√(σ² + ε) per output channel, b′ = β + (b − μ)·γ/√(σ² + ε),
// computed in float64 and rounded once. The results differ from normalising after the
// convolution only by rounding; the engine then fuses a following ReLU into the convolution.
func (p *params) convBN(b *nn.Builder, conv, bn string, x nn.Value, out, k, stride, pad int) nn.Value {
	in := b.Shape(x).C
	w := p.get(conv+".weight", out, in, k, k)
	var bias []float32
	if p.has(conv + ".bias") {
		bias = p.get(conv+".bias", out)
	}
	gamma, beta := p.get(bn+".weight", out), p.get(bn+".bias", out)
	mean, vr := p.get(bn+".running_mean", out), p.get(bn+".running_var", out)
	if p.failed() {
		return x
	}
	fw := make([]float32, len(w))
	fb := make([]float32, out)
	per := in * k * k
	for co := range out {
		s := float64(gamma[co]) / math.Sqrt(float64(vr[co])+bnEps)
		for i, v := range w[co*per : (co+1)*per] {
			fw[co*per+i] = float32(float64(v) * s)
		}
		b0 := 0.0
		if bias != nil {
			b0 = float64(bias[co])
		}
		fb[co] = float32(float64(beta[co]) + (b0-float64(mean[co]))*s)
	}
	return b.Conv2d(conv, x, nn.Conv{Out: out, KH: k, KW: k, Stride: stride, Pad: pad, Weight: fw, Bias: fb})
}
