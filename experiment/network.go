package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/decision"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/onnx"
)

// LoadOptions say how LoadNetworkWith builds a network and prepares its images.
type LoadOptions struct {
	// Arch is a checkpoint's architecture ("" infers it from the tensors).
	Arch string
	// Data is the data folder, where known networks' checkpoints are looked up.
	Data string
	// Features names the node or value of an ONNX model whose output the detectors read as
	// features ("" is the input of the final Gemm/MatMul).
	Features string
	// InputShape gives C, H, W of an ONNX model whose input leaves them symbolic.
	InputShape []int
	// Preprocess, if not nil, replaces the network's normalisation and says how image folders
	// are resized and cropped. A nil Mean or Std keeps the network's own; Scale 0 is 1/255.
	Preprocess *models.Preprocess
}

// LoadNetworkWith is LoadNetwork with options: ONNX features and input shape, and the
// preprocessing of the images.
func LoadNetworkWith(nnName string, opt LoadOptions) (*Network, error) {
	path, known, err := models.Resolve(nnName, opt.Data)
	if err != nil {
		return nil, err
	}
	if (opt.Features != "" || opt.InputShape != nil) && !isONNX(path) {
		return nil, fmt.Errorf("%s: a feature tap and an input shape can be given only for an ONNX model", nnName)
	}
	arch := opt.Arch
	if arch == "" {
		arch = known.Arch
	}
	m, notes, err := LoadModel(path, arch, onnx.Options{Features: opt.Features, InputShape: opt.InputShape})
	if err != nil {
		return nil, err
	}
	var pre *models.Preprocess
	if opt.Preprocess != nil {
		p, err := ApplyPreprocess(m, *opt.Preprocess)
		if err != nil {
			return nil, err
		}
		pre = &p
	}
	digest, err := decision.Digest(path)
	if err != nil {
		return nil, err
	}
	in := known.InSet
	if sz := m.Graph.Input(); in == "" && sz.H == dataset.Side && sz.W == dataset.Side {
		// Only a 32×32 network of 10 or 100 classes is taken for a CIFAR classifier.
		switch m.Classes() {
		case 10:
			in = "cifar10"
		case 100:
			in = "cifar100"
		}
	}
	return &Network{Model: m, NN: nnName, Path: path, Checkpoint: "sha256:" + digest, InSet: in, Notes: notes,
		Preprocess: pre, Features: opt.Features}, nil
}

func isONNX(path string) bool { return strings.EqualFold(filepath.Ext(path), ".onnx") }

// ApplyPreprocess completes p with m's own normalisation where p leaves it out (a nil Mean or
// Std; Scale 0 is 1/255, no interpolation bilinear), so that giving only a resize and a crop
// keeps a network's mean and std, and sets it on m (Preprocess.Apply). It returns p completed.
func ApplyPreprocess(m *models.Model, p models.Preprocess) (models.Preprocess, error) {
	p = effectivePreprocess(m, p)
	return p, p.Apply(m)
}

func effectivePreprocess(m *models.Model, p models.Preprocess) models.Preprocess {
	return CompletePreprocess(p, m.Mean, m.Std)
}

// CompletePreprocess fills what p leaves out: Scale 0 as 1/255, the bilinear interpolation, and
// a nil Mean or Std from mean and std (a network's own, in units of v/255).
func CompletePreprocess(p models.Preprocess, mean, std [3]float32) models.Preprocess {
	if p.Scale == 0 {
		p.Scale = 1.0 / 255
	}
	if p.Interpolation == "" {
		p.Interpolation = "bilinear"
	}
	k := 255 * p.Scale // Apply divides by it: m's values are in units of v/255
	own := func(v [3]float32) []float64 {
		out := make([]float64, 3)
		for c, x := range v {
			// The shortest decimal that is x as float32 (0.485, not 0.48500001430511475): what
			// the user would have written, recorded as such in the score identity.
			out[c], _ = strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
			out[c] *= k
		}
		return out
	}
	if p.Mean == nil {
		p.Mean = own(mean)
	}
	if p.Std == nil {
		p.Std = own(std)
	}
	return p
}

// PreprocessJSON is the preprocessing given in place of the network's own, as JSON: the
// preprocessing's part of a score identity and of a threshold file (decision.Threshold), ""
// for the network's own.
func (n *Network) PreprocessJSON() string {
	if n.Preprocess == nil {
		return ""
	}
	b, _ := json.Marshal(n.Preprocess) // plain numbers and strings: cannot fail
	return string(b)
}

// Transform is how images of a set named dataset.FolderPrefix+PATH are prepared for the
// network: the preprocessing's resize and crop, and where it gives no crop, the shorter side
// resized to the network's side and the centre cropped to it.
func (n *Network) Transform() dataset.Transform {
	return ImageTransform(n.Preprocess, n.Model.Graph.Input())
}

// ImageTransform is Network.Transform for the preprocessing p (nil: none given) of a network
// whose input is in: p's resize and crop, and where p gives no crop, the shorter side resized to
// a square input's side and the centre cropped to it.
func ImageTransform(p *models.Preprocess, in nn.Shape) dataset.Transform {
	var t dataset.Transform
	if p != nil {
		t = p.Transform()
	}
	if t.Crop == 0 && in.H == in.W {
		t.Crop = in.H
		if t.Resize == 0 {
			t.Resize = in.H
		}
	}
	return t
}

// OpenSet opens a set by name for net (dataset.OpenContext): a dataset.FolderPrefix set with
// net's Transform. A set whose images are not of net's input size is refused (CheckImages).
func OpenSet(ctx context.Context, net *Network, name string, opt dataset.Options) (dataset.Dataset, error) {
	opt.Transform = net.Transform()
	ds, err := dataset.OpenContext(ctx, name, opt)
	if err != nil {
		return nil, err
	}
	if err := CheckImages(net.Model, ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// ErrImageSize marks a set whose images are not of the size the network takes.
var ErrImageSize = errors.New("image size")

// ImageSizeError reports a set whose images do not fit the network's input.
type ImageSizeError struct {
	Set    string
	Values int      // values per image of the set
	Input  nn.Shape // the network's input
}

func (e *ImageSizeError) Error() string {
	return fmt.Sprintf("set %s gives %s images, the network takes %d×%d×%d", e.Set, imageShape(e.Values), e.Input.C, e.Input.H, e.Input.W)
}

func (e *ImageSizeError) Unwrap() error { return ErrImageSize }

// imageShape writes v values per image as 3×s×s when they are square RGB images.
func imageShape(v int) string {
	if s := int(math.Round(math.Sqrt(float64(v) / 3))); 3*s*s == v {
		return fmt.Sprintf("3×%d×%d", s, s)
	}
	return fmt.Sprintf("%d-value", v)
}

// CheckImages refuses a set whose images are of another size than m's input
// (dataset.PixelsOf), rather than letting them be read at the wrong size.
func CheckImages(m *models.Model, ds dataset.Dataset) error {
	in := m.Graph.Input()
	if p := dataset.PixelsOf(ds); p != in.Size() {
		return &ImageSizeError{Set: ds.Name(), Values: p, Input: in}
	}
	return nil
}
