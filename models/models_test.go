package models

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/checkpoint"
	"github.com/odin-ood/odin/internal/datadir"
)

func TestNormalize(t *testing.T) {
	m := &Model{Mean: CIFARMean, Std: CIFARStd}
	src := make([]float32, 2*imageSize)
	for i := range src {
		src[i] = float32(i%7) / 6
	}
	dst := make([]float32, len(src))
	m.Normalize(dst, src, 2)
	for i, v := range src {
		c := i / 1024 % 3
		want := (v - CIFARMean[c]) * (1 / CIFARStd[c])
		if dst[i] != want {
			t.Fatalf("value %d (channel %d): %v, want %v", i, c, dst[i], want)
		}
	}
	// Channel means are those of the CIFAR training pixels, so a mean-coloured image maps to 0.
	for c := range 3 {
		for i := range 1024 {
			src[c*1024+i] = CIFARMean[c]
		}
	}
	m.Normalize(dst, src, 1)
	for i, v := range dst[:imageSize] {
		if v != 0 {
			t.Fatalf("mean image: value %d is %v, want 0", i, v)
		}
	}
}

// TestInferGenerated checks that the configuration is recovered from tensor names and shapes
// alone, for the seed's networks and neighbours, on random weights.
func TestInferGenerated(t *testing.T) {
	for _, tc := range []struct {
		cfg      any
		arch     string
		name     string
		imagenet bool
		classes  int
	}{
		{cfg: DenseNetBC100(10), arch: ArchDenseNet, name: "DenseNet-BC-100 (k=12)", classes: 10},
		{cfg: DenseNetBC100(100), arch: ArchDenseNet, name: "DenseNet-BC-100 (k=12)", classes: 100},
		{cfg: DenseNetConfig{Depth: 40, Growth: 12, Compression: 1, Classes: 10}, arch: ArchDenseNet, name: "DenseNet-BC-40 (k=12)", classes: 10},
		{cfg: WideResNetConfig{Depth: 10, Widen: 2, Classes: 10}, arch: ArchWideResNet, name: "WRN-10-2", classes: 10},
		{cfg: WideResNetConfig{Depth: 16, Widen: 4, Classes: 100}, arch: ArchWideResNet, name: "WRN-16-4", classes: 100},
		{cfg: WideResNetConfig{Depth: 22, Widen: 1, Classes: 10}, arch: ArchWideResNet, name: "WRN-22-1", classes: 10},
		{cfg: ResNetConfig{Depth: 8, Classes: 10}, arch: ArchResNet, name: "ResNet-8", imagenet: true, classes: 10},
		{cfg: ResNetConfig{Depth: 20, Classes: 10}, arch: ArchResNet, name: "ResNet-20", imagenet: true, classes: 10},
		{cfg: ResNetConfig{Depth: 56, Classes: 10}, arch: ArchResNet, name: "ResNet-56", imagenet: true, classes: 10},
		{cfg: ResNetConfig{Depth: 110, Classes: 100}, arch: ArchResNet, name: "ResNet-110", imagenet: true, classes: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tensors := randomTensors(tc.cfg, 1)
			var got any
			var err error
			p := newParams(tensors)
			switch tc.arch {
			case ArchDenseNet:
				got, err = denseNetFrom(p)
			case ArchWideResNet:
				got, err = wideResNetFrom(p)
			case ArchResNet:
				got, err = resNetFrom(p)
			}
			if err != nil || got != tc.cfg {
				t.Errorf("inferred %+v, %v; want %+v", got, err, tc.cfg)
			}
			for _, arch := range []string{"", tc.arch} {
				m, err := FromTensors(tensors, arch)
				if err != nil {
					t.Fatalf("FromTensors(arch %q): %v", arch, err)
				}
				if m.Name != tc.name || m.Arch != tc.arch || m.Classes() != tc.classes {
					t.Errorf("arch %q: got %s, %s, %d classes; want %s, %s, %d", arch, m.Name, m.Arch, m.Classes(), tc.name, tc.arch, tc.classes)
				}
				wantMean, wantStd := CIFARMean, CIFARStd
				if tc.imagenet {
					wantMean, wantStd = ImageNetMean, ImageNetStd
				}
				if m.Mean != wantMean || m.Std != wantStd {
					t.Errorf("normalisation mean %v std %v, want %v %v", m.Mean, m.Std, wantMean, wantStd)
				}
			}
		})
	}
}

// TestInferCheckpoints checks inference on the real and fixture checkpoints.
func TestInferCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		path    string // "shared:" prefix for the shared data, else under testdata
		name    string
		arch    string
		classes int
	}{
		{"shared:models/densenet10.pth", "DenseNet-BC-100 (k=12)", ArchDenseNet, 10},
		{"shared:models/densenet100.pth", "DenseNet-BC-100 (k=12)", ArchDenseNet, 100},
		{"shared:models/resnet20-cifar10.th", "ResNet-20", ArchResNet, 10},
		{"shared:models/resnet56-cifar10.th", "ResNet-56", ArchResNet, 10},
		{"wrn-10-1.pth", "WRN-10-1", ArchWideResNet, 10},
		{"densenet-22-4.pth", "DenseNet-BC-22 (k=4)", ArchDenseNet, 10},
		{"resnet8.pt", "ResNet-8", ArchResNet, 10},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			path := filepath.Join("testdata", tc.path)
			if rel, ok := strings.CutPrefix(tc.path, "shared:"); ok {
				path = datadir.ForTest(t, rel)
			}
			m, err := Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != tc.name || m.Arch != tc.arch || m.Classes() != tc.classes {
				t.Errorf("got %s, %s, %d classes; want %s, %s, %d", m.Name, m.Arch, m.Classes(), tc.name, tc.arch, tc.classes)
			}
		})
	}
}

func fixtureTensors(t testing.TB, file string) map[string]*checkpoint.Tensor {
	t.Helper()
	f, err := checkpoint.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return f.Tensors
}

// checkError asserts a one-line error containing every part.
func checkError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

func TestWrongArchitecture(t *testing.T) {
	for _, tc := range []struct {
		file, arch string
		parts      []string
	}{
		{"resnet8.pt", ArchDenseNet, []string{"not a DenseNet-BC", "trans1"}},
		{"resnet8.pt", ArchWideResNet, []string{"not a Wide ResNet", "block1.layer.0.conv1"}},
		{"wrn-10-1.pth", ArchDenseNet, []string{"not a DenseNet-BC", "trans1"}},
		{"wrn-10-1.pth", ArchResNet, []string{"not a CIFAR ResNet", "layer1.0"}},
		{"densenet-22-4.pth", ArchResNet, []string{"not a CIFAR ResNet", "layer1.0"}},
		// DenseNet's names fit the Wide ResNet layout; the shapes do not.
		{"densenet-22-4.pth", ArchWideResNet, []string{"tensor conv1.weight has shape [8 3 3 3], want [16 3 3 3]"}},
		{"resnet8.pt", "vgg", []string{`unknown architecture "vgg"`, "densenet, wideresnet, resnet"}},
	} {
		t.Run(tc.file+"/"+tc.arch, func(t *testing.T) {
			m, err := FromTensors(fixtureTensors(t, tc.file), tc.arch)
			if m != nil {
				t.Errorf("got model %s", m.Name)
			}
			checkError(t, err, tc.parts...)
		})
	}
	t.Run("resnet20 as densenet", func(t *testing.T) {
		_, err := Load(datadir.ForTest(t, "models/resnet20-cifar10.th"), ArchDenseNet)
		checkError(t, err, "checkpoint resnet20-cifar10.th: not a DenseNet-BC", "trans1")
	})
}

func TestUnknownLayout(t *testing.T) {
	_, err := FromTensors(map[string]*checkpoint.Tensor{}, "")
	checkError(t, err, "unknown architecture", "first tensors: none")
	tensors := map[string]*checkpoint.Tensor{
		"features.0.weight": {Shape: []int{64, 3, 3, 3}, Data: make([]float32, 64*27)},
		"classifier.weight": {Shape: []int{10, 512}, Data: make([]float32, 5120)},
	}
	_, err = FromTensors(tensors, "")
	checkError(t, err, "unknown architecture", "classifier.weight, features.0.weight")
}

func without(m map[string]*checkpoint.Tensor, name string) map[string]*checkpoint.Tensor {
	c := maps.Clone(m)
	delete(c, name)
	return c
}

func TestMissingTensor(t *testing.T) {
	for _, tc := range []struct{ file, tensor, model string }{
		{"densenet-22-4.pth", "block2.layer.1.bn2.running_var", "DenseNet-BC-22 (k=4)"},
		{"densenet-22-4.pth", "block3.layer.0.conv2.weight", "DenseNet-BC-22 (k=4)"},
		{"densenet-22-4.pth", "trans2.bn1.bias", "DenseNet-BC-22 (k=4)"},
		{"densenet-22-4.pth", "bn1.running_mean", "DenseNet-BC-22 (k=4)"},
		{"densenet-22-4.pth", "conv1.weight", "DenseNet-BC-22 (k=4)"},
		{"wrn-10-1.pth", "block2.layer.0.convShortcut.weight", "WRN-10-1"},
		{"wrn-10-1.pth", "block3.layer.0.bn2.weight", "WRN-10-1"},
		{"resnet8.pt", "layer2.0.bn1.running_var", "ResNet-8"},
		{"resnet8.pt", "conv1.weight", "ResNet-8"},
	} {
		t.Run(tc.file+"/"+tc.tensor, func(t *testing.T) {
			_, err := FromTensors(without(fixtureTensors(t, tc.file), tc.tensor), "")
			checkError(t, err, tc.model+": missing tensor "+tc.tensor)
		})
	}
}

// TestEveryTensorRequired removes each tensor in turn: every removal but BatchNorm's step counter
// must fail. (Where removal changes what is inferred, e.g. the last layer of a block, the error
// names the tensor that no longer fits rather than the removed one.)
func TestEveryTensorRequired(t *testing.T) {
	for _, file := range []string{"densenet-22-4.pth", "wrn-10-1.pth", "resnet8.pt"} {
		tensors := fixtureTensors(t, file)
		for name := range tensors {
			if strings.HasSuffix(name, ".num_batches_tracked") {
				continue
			}
			if m, err := FromTensors(without(tensors, name), ""); err == nil {
				t.Errorf("%s without %s: no error, built %s", file, name, m.Name)
			}
		}
	}
}

func TestMissingClassifierBias(t *testing.T) {
	for _, tc := range []struct{ file, tensor string }{{"wrn-10-1.pth", "fc.bias"}, {"densenet-22-4.pth", "fc.bias"}, {"resnet8.pt", "linear.bias"}} {
		_, err := FromTensors(without(fixtureTensors(t, tc.file), tc.tensor), "")
		checkError(t, err, "missing tensor "+tc.tensor)
	}
}

func TestUnexpectedTensor(t *testing.T) {
	extra := func(m map[string]*checkpoint.Tensor, names ...string) map[string]*checkpoint.Tensor {
		c := maps.Clone(m)
		for _, n := range names {
			c[n] = &checkpoint.Tensor{Shape: []int{3}, Data: []float32{1, 2, 3}}
		}
		return c
	}
	dn := fixtureTensors(t, "densenet-22-4.pth")
	_, err := FromTensors(extra(dn, "block1.layer.0.attention.weight"), "")
	checkError(t, err, "DenseNet-BC-22 (k=4): unexpected tensor block1.layer.0.attention.weight")
	_, err = FromTensors(extra(fixtureTensors(t, "resnet8.pt"), "fc.weight", "layer4.0.conv1.weight", "a", "b"), "")
	checkError(t, err, "ResNet-8: unexpected tensor a, b, fc.weight and 1 more")
	// A Wide ResNet block that needs no shortcut must not carry one.
	wrn := fixtureTensors(t, "wrn-10-1.pth")
	wrn["block1.layer.0.convShortcut.weight"] = &checkpoint.Tensor{Shape: []int{16, 16, 1, 1}, Data: make([]float32, 256)}
	_, err = FromTensors(wrn, "")
	checkError(t, err, "WRN-10-1: unexpected tensor block1.layer.0.convShortcut.weight")
}

func TestMisshapedTensor(t *testing.T) {
	for _, tc := range []struct {
		file, tensor string
		shape        []int
		want         string
	}{
		{"densenet-22-4.pth", "block2.layer.1.conv2.weight", []int{4, 16, 1, 9},
			"DenseNet-BC-22 (k=4): tensor block2.layer.1.conv2.weight has shape [4 16 1 9], want [4 16 3 3]"},
		{"densenet-22-4.pth", "block1.layer.2.bn1.running_mean", []int{1, 16},
			"DenseNet-BC-22 (k=4): tensor block1.layer.2.bn1.running_mean has shape [1 16], want [16]"},
		{"wrn-10-1.pth", "block3.layer.0.convShortcut.weight", []int{64, 32},
			"WRN-10-1: tensor block3.layer.0.convShortcut.weight has shape [64 32], want [64 32 1 1]"},
		{"resnet8.pt", "linear.bias", []int{2, 5},
			"ResNet-8: tensor linear.bias has shape [2 5], want [10]"},
	} {
		t.Run(tc.file+"/"+tc.tensor, func(t *testing.T) {
			m := fixtureTensors(t, tc.file)
			old := m[tc.tensor]
			if numel(tc.shape) != len(old.Data) {
				t.Fatalf("test case reshapes %v to %v", old.Shape, tc.shape)
			}
			m[tc.tensor] = &checkpoint.Tensor{Shape: tc.shape, Data: old.Data}
			_, err := FromTensors(m, "")
			checkError(t, err, tc.want)
		})
	}
	// The classifier's rows set the inferred class count; a mismatch then surfaces in the bias.
	m := fixtureTensors(t, "resnet8.pt")
	m["linear.weight"] = &checkpoint.Tensor{Shape: []int{5, 64}, Data: m["linear.weight"].Data[:5*64]}
	_, err := FromTensors(m, "")
	checkError(t, err, "ResNet-8: tensor linear.bias has shape [10], want [5]")
}

func TestDataShorterThanShape(t *testing.T) {
	m := fixtureTensors(t, "resnet8.pt")
	m["layer1.0.bn1.running_var"] = &checkpoint.Tensor{Shape: []int{16}, Data: make([]float32, 4)}
	model, err := FromTensors(m, "")
	if err == nil {
		t.Fatalf("built %s from a tensor with 4 values for shape [16]", model.Name)
	}
	if !strings.Contains(err.Error(), "layer1.0.bn1") {
		t.Errorf("error %q does not name layer1.0.bn1", err)
	}
}
