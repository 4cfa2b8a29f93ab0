package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/odin-ood/odin/dataset"
)

// Preprocess is how a classifier's images are prepared, as data: what torchvision's
//
//	Compose([Resize(Resize, Interpolation), CenterCrop(Crop), ToTensor(), Normalize(Mean, Std)])
//
// does to a PIL image, with Scale the factor that turns 8-bit samples into the values Mean and
// Std are expressed in (1/255 for ToTensor, 1 for networks fed 0…255). As JSON (--preprocess FILE):
//
//	{"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
//	 "resize": 256, "crop": 224, "interpolation": "bilinear", "scale": 0.00392156862745098}
//
// Missing fields take ImageNetPreprocess's values, except that a missing resize or crop means
// none. Resizing is PIL's, antialiased when shrinking, as torchvision's Resize on PIL images.
type Preprocess struct {
	Mean          []float64 `json:"mean"`
	Std           []float64 `json:"std"`
	Resize        int       `json:"resize,omitempty"`
	Crop          int       `json:"crop,omitempty"`
	Interpolation string    `json:"interpolation,omitempty"`
	Scale         float64   `json:"scale,omitempty"`
}

// ImageNetPreprocess is torchvision's ImageNet evaluation recipe: 256, then a 224 crop, bilinear.
func ImageNetPreprocess() Preprocess {
	return Preprocess{Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225},
		Resize: 256, Crop: 224, Interpolation: "bilinear", Scale: 1.0 / 255}
}

// ParsePreprocess reads a JSON Preprocess, refusing unknown fields and invalid values.
func ParsePreprocess(data []byte) (Preprocess, error) {
	p := ImageNetPreprocess()
	p.Resize, p.Crop = 0, 0
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return Preprocess{}, fmt.Errorf("preprocessing: %v", err)
	}
	if err := p.Check(); err != nil {
		return Preprocess{}, err
	}
	return p, nil
}

// ReadPreprocess reads a JSON Preprocess from a file.
func ReadPreprocess(path string) (Preprocess, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Preprocess{}, err
	}
	p, err := ParsePreprocess(data)
	if err != nil {
		return Preprocess{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Check reports the first invalid field.
func (p Preprocess) Check() error {
	if len(p.Mean) != 3 || len(p.Std) != 3 {
		return fmt.Errorf("preprocessing: mean and std need 3 values each, got %d and %d", len(p.Mean), len(p.Std))
	}
	for c := range 3 {
		if !(p.Std[c] > 0) || math.IsInf(p.Std[c], 0) || math.IsNaN(p.Mean[c]) || math.IsInf(p.Mean[c], 0) {
			return fmt.Errorf("preprocessing: channel %d has mean %v and std %v", c, p.Mean[c], p.Std[c])
		}
	}
	if !(p.Scale > 0) || math.IsInf(p.Scale, 0) {
		return fmt.Errorf("preprocessing: scale %v must be positive", p.Scale)
	}
	if _, err := p.filter(); err != nil {
		return err
	}
	return p.Transform().Check()
}

func (p Preprocess) filter() (dataset.Filter, error) {
	switch p.Interpolation {
	case "", "bilinear":
		return dataset.Bilinear, nil
	case "bicubic":
		return dataset.Bicubic, nil
	case "nearest":
		return dataset.Nearest, nil
	}
	return 0, fmt.Errorf("preprocessing: interpolation %q (valid: bilinear, bicubic, nearest)", p.Interpolation)
}

// Transform is the part of p applied to 8-bit images, for dataset.OpenImageFolder and
// dataset.DecodeTransformed.
func (p Preprocess) Transform() dataset.Transform {
	f, _ := p.filter()
	return dataset.Transform{Resize: p.Resize, Crop: p.Crop, Filter: f}
}

// Apply sets m's normalisation from p. The datasets yield v/255; with Scale s the network's input
// is (v·s − mean)/std = (v/255 − mean/(255s))/(std/(255s)), so the model keeps mean and std in
// units of v/255. ODIN's ε is then divided by that std, per channel (ood.PerturbImages): a step
// of ε in the [0, 1] pixel units, whatever the normalisation, as the seed does for CIFAR. A crop
// must match the model's input size.
func (p Preprocess) Apply(m *Model) error {
	if err := p.Check(); err != nil {
		return err
	}
	in := m.Graph.Input()
	if p.Crop > 0 && (in.H != p.Crop || in.W != p.Crop) {
		return fmt.Errorf("preprocessing crops %d×%d, the network takes %d×%d", p.Crop, p.Crop, in.H, in.W)
	}
	k := 255 * p.Scale
	for c := range 3 {
		m.Mean[c] = float32(p.Mean[c] / k)
		m.Std[c] = float32(p.Std[c] / k)
	}
	return nil
}
