package models

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/odin-ood/odin/checkpoint"
	"github.com/odin-ood/odin/nn"
)

// Normalisation of CIFAR inputs used by the seed's DenseNet and Wide ResNet: per-channel mean and
// standard deviation of the training pixels, in [0,1] units.
var (
	CIFARMean    = [3]float32{125.3 / 255, 123.0 / 255, 113.9 / 255}
	CIFARStd     = [3]float32{63.0 / 255, 62.1 / 255, 66.7 / 255}
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// Arch names an architecture family.
const (
	ArchDenseNet   = "densenet"
	ArchWideResNet = "wideresnet"
	ArchResNet     = "resnet"
)

// Archs lists the architecture names accepted by Load and FromTensors.
func Archs() []string {
	return []string{ArchDenseNet, ArchWideResNet, ArchResNet, ArchTorchvisionResNet, ArchOpenOODResNet18}
}

// Model is a classifier ready to run: its graph and the normalisation its inputs need.
type Model struct {
	Name      string // e.g. "DenseNet-BC-100 (k=12)"
	Arch      string // one of Archs
	Graph     *nn.Graph
	Mean, Std [3]float32
}

// Classes is the number of classes the model predicts.
func (m *Model) Classes() int { return m.Graph.Classes() }

// Normalize writes (x − mean)/std of n images (each of the graph's input shape C×H×W, in [0,1])
// into dst. Channel c uses Mean[c] and Std[c], so inputs have at most three channels. A Model
// without a graph normalises CIFAR's 3×32×32.
func (m *Model) Normalize(dst, src []float32, n int) {
	in := nn.Shape{C: 3, H: 32, W: 32}
	if m.Graph != nil {
		in = m.Graph.Input()
	}
	plane := in.H * in.W
	for b := range n {
		for c := range min(in.C, 3) {
			mean, inv := m.Mean[c], 1/m.Std[c]
			off := (b*in.C + c) * plane
			for i, v := range src[off : off+plane] {
				dst[off+i] = (v - mean) * inv
			}
		}
	}
}

// FromTensors builds a model from named tensors (names as in a PyTorch state_dict, without a
// "module." prefix). arch is one of Archs, or "" to infer it from the tensor names. Every tensor
// must be used and have the expected shape; errors name the offending tensor.
func FromTensors(tensors map[string]*checkpoint.Tensor, arch string) (*Model, error) {
	p := newParams(tensors)
	if arch == "" {
		arch = infer(p)
		if arch == "" {
			return nil, fmt.Errorf("unknown architecture: no DenseNet-BC, Wide ResNet or CIFAR ResNet tensor layout found (first tensors: %s)", firstNames(tensors))
		}
	}
	var (
		name string
		g    *nn.Graph
		err  error
		m    = &Model{Arch: arch, Mean: CIFARMean, Std: CIFARStd}
	)
	switch arch {
	case ArchDenseNet:
		var c DenseNetConfig
		if c, err = denseNetFrom(p); err == nil {
			name = c.name()
			g, err = c.build(p)
		}
	case ArchWideResNet:
		var c WideResNetConfig
		if c, err = wideResNetFrom(p); err == nil {
			name = c.name()
			g, err = c.build(p)
		}
	case ArchResNet:
		var c ResNetConfig
		if c, err = resNetFrom(p); err == nil {
			name = c.name()
			g, err = c.build(p)
			m.Mean, m.Std = ImageNetMean, ImageNetStd
		}
	case ArchTorchvisionResNet, ArchOpenOODResNet18:
		return FromTensorsAt(tensors, arch, 0) // see torchvision.go
	default:
		return nil, fmt.Errorf("unknown architecture %q (valid: %s)", arch, strings.Join(Archs(), ", "))
	}
	if p.err != nil {
		return nil, fmt.Errorf("%s: %w", name, p.err)
	}
	if err != nil {
		return nil, err
	}
	if err := p.leftover(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.Name, m.Graph = name, g
	return m, nil
}

// infer guesses the family from tensor names: the DenseNet and Wide ResNet layouts share
// block names, and differ by DenseNet's transitions.
func infer(p *params) string {
	if a := inferExtra(p); a != "" {
		return a
	}
	switch {
	case p.hasPrefix("trans1."):
		return ArchDenseNet
	case p.hasPrefix("block1.layer.0."):
		return ArchWideResNet
	case p.hasPrefix("layer1.0."):
		return ArchResNet
	}
	return ""
}

func firstNames(m map[string]*checkpoint.Tensor) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 4 {
		names = append(names[:4], "…")
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Load reads a checkpoint file and builds its model. arch may be "" to infer it.
func Load(path, arch string) (*Model, error) {
	f, err := checkpoint.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := FromTensors(f.Tensors, arch)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", filepath.Base(path), err)
	}
	return m, nil
}

// Known is a network that the seed or its successors distributed, by the name users type.
type Known struct {
	Name    string // as in --nn
	File    string // under <data>/models/
	Arch    string
	InSet   string // in-distribution dataset name: cifar10 or cifar100
	Classes int
}

// KnownNetworks lists the networks accepted by name.
var KnownNetworks = []Known{
	{"densenet10", "densenet10.pth", ArchDenseNet, "cifar10", 10},
	{"densenet100", "densenet100.pth", ArchDenseNet, "cifar100", 100},
	{"wideresnet10", "wideresnet10.pth", ArchWideResNet, "cifar10", 10},
	{"wideresnet100", "wideresnet100.pth", ArchWideResNet, "cifar100", 100},
	{"resnet20", "resnet20-cifar10.th", ArchResNet, "cifar10", 10},
	{"resnet56", "resnet56-cifar10.th", ArchResNet, "cifar10", 10},
}

// KnownNames lists the names of KnownNetworks.
func KnownNames() []string {
	var s []string
	for _, k := range KnownNetworks {
		s = append(s, k.Name)
	}
	return s
}

// Resolve turns --nn into a checkpoint path and what is known about it: a known name is looked up
// as <dataDir>/models/<file>; anything else that names an existing file is used as a path.
func Resolve(nn, dataDir string) (path string, known Known, err error) {
	for _, k := range KnownNetworks {
		if k.Name == nn {
			path = filepath.Join(dataDir, "models", k.File)
			if _, err := os.Stat(path); err != nil {
				return "", k, fmt.Errorf("network %s: %s not found (looked in %s; put the seed's model files under <data>/models or pass --data)", nn, k.File, filepath.Join(dataDir, "models"))
			}
			return path, k, nil
		}
	}
	if st, err := os.Stat(nn); err == nil && !st.IsDir() {
		return nn, Known{Name: filepath.Base(nn)}, nil
	}
	return "", Known{}, fmt.Errorf("unknown network %q: not a file, and not one of %s", nn, strings.Join(KnownNames(), ", "))
}
