package decision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/odin-ood/odin/ood"
)

// ErrOtherNetwork is returned by CheckNetwork when a threshold was calibrated on another
// checkpoint.
var ErrOtherNetwork = errors.New("threshold calibrated on another network")

// ErrOtherPreprocess is returned by CheckPreprocess when a threshold was calibrated on images
// prepared another way.
var ErrOtherPreprocess = errors.New("threshold calibrated with another preprocessing")

// Threshold is an operating point of ODIN for deciding single inputs: its parameters, the score
// threshold δ, and the network and images it was calibrated on. An input is accepted as
// in-distribution when its ODIN score s ≥ δ. It is stored as a small JSON file.
type Threshold struct {
	Method      string  `json:"method"` // "odin"
	Temperature float64 `json:"temperature"`
	Magnitude   float64 `json:"magnitude"`
	// Delta is the threshold δ: the highest score such that the fraction TPR of the calibration
	// images scoring at least δ is at least the requested TPR (the FPR95 convention of package
	// metrics, with 0.95 replaced by TPR).
	Delta float64 `json:"threshold"`
	// TPR is the requested fraction of in-distribution images to accept; Accepted the fraction
	// of the calibration images that score at least Delta (≥ TPR, more when scores tie).
	TPR      float64 `json:"tpr"`
	Accepted float64 `json:"accepted"`
	// The network: the name it was given by, its architecture's name, and the SHA-256 of its
	// checkpoint (Digest).
	NN         string `json:"nn"`
	Network    string `json:"network"`
	Checkpoint string `json:"checkpoint_sha256"`
	// The calibration images: images First … First+Count−1 of InDataset.
	InDataset string `json:"in_dataset"`
	First     int    `json:"first"`
	Count     int    `json:"count"`
	// Preprocess is the preprocessing the calibration images went through when one replaced
	// the network's own (the JSON of models.Preprocess as experiment.Network.PreprocessJSON
	// writes it), "" for the network's own. A threshold applies to images prepared the same way.
	Preprocess string `json:"preprocess,omitempty"`
}

// Calibrate returns the threshold δ that accepts a fraction tpr of the scores — the highest δ
// with #{s ≥ δ}/n ≥ tpr, the fraction computed in float64 — and the fraction it accepts. tpr must
// be in (0, 1]; the scores must not be empty or hold NaN.
func Calibrate(scores []float64, tpr float64) (delta, accepted float64, err error) {
	if !(tpr > 0 && tpr <= 1) {
		return 0, 0, fmt.Errorf("TPR %g: must be in (0, 1]", tpr)
	}
	if len(scores) == 0 {
		return 0, 0, errors.New("no scores to calibrate on")
	}
	if i := slices.IndexFunc(scores, math.IsNaN); i >= 0 {
		return 0, 0, fmt.Errorf("score %d is NaN", i)
	}
	s := slices.Clone(scores)
	slices.Sort(s)
	n := len(s)
	// Walk the distinct scores from the top; i is the number at or above s[n−1−i]'s value.
	for i := 0; i < n; {
		v := s[n-1-i]
		for i < n && s[n-1-i] == v {
			i++
		}
		if f := float64(i) / float64(n); f >= tpr {
			return v, f, nil
		}
	}
	return s[0], 1, nil // not reached: i = n gives 1 ≥ tpr
}

// Decide reports whether an input with ODIN score s (with the threshold's temperature and
// magnitude) is accepted as in-distribution: s ≥ δ.
func (t *Threshold) Decide(score float64) bool { return score >= t.Delta }

// Accepts returns the fraction of the scores that Decide accepts (0 for none).
func (t *Threshold) Accepts(scores []float64) float64 {
	if len(scores) == 0 {
		return 0
	}
	n := 0
	for _, s := range scores {
		if t.Decide(s) {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

// Detector returns the ODIN detector with the threshold's parameters, whose scores Decide takes.
func (t *Threshold) Detector() *ood.ODIN {
	return &ood.ODIN{Temperature: t.Temperature, Magnitude: t.Magnitude}
}

// Check reports a threshold that Decide cannot use: another method, parameters out of range
// (ood.CheckODIN), or a threshold that is not finite.
func (t *Threshold) Check() error {
	if t.Method != "odin" {
		return fmt.Errorf("method %q: only odin thresholds are supported", t.Method)
	}
	if err := ood.CheckODIN(t.Temperature, t.Magnitude); err != nil {
		return err
	}
	switch {
	case math.IsNaN(t.Delta) || math.IsInf(t.Delta, 0):
		return fmt.Errorf("threshold %g: must be finite", t.Delta)
	case !(t.TPR > 0 && t.TPR <= 1):
		return fmt.Errorf("tpr %g: must be in (0, 1]", t.TPR)
	}
	return nil
}

// CheckNetwork reports whether the threshold was calibrated on the network whose checkpoint
// file has the given SHA-256 digest (as Digest returns it); the error wraps ErrOtherNetwork.
func (t *Threshold) CheckNetwork(digest string) error {
	if t.Checkpoint != digest {
		return fmt.Errorf("%w: calibrated on checkpoint %s (%s), not on this one (%s)", ErrOtherNetwork, short(t.Checkpoint), t.NN, short(digest))
	}
	return nil
}

// CheckPreprocess reports whether the threshold was calibrated with the preprocessing p (as
// Preprocess records it, "" for the network's own); the error wraps ErrOtherPreprocess.
func (t *Threshold) CheckPreprocess(p string) error {
	if t.Preprocess != p {
		return fmt.Errorf("%w: calibrated with %s, used with %s", ErrOtherPreprocess, describePreprocess(t.Preprocess), describePreprocess(p))
	}
	return nil
}

func describePreprocess(p string) string {
	if p == "" {
		return "the network's own"
	}
	return p
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// Save writes the threshold as indented JSON. Floats are written so that they read back exactly.
func (t *Threshold) Save(path string) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("threshold file %s: %w", filepath.Base(path), err)
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// maxFile bounds what Load reads: a threshold file is a few hundred bytes.
const maxFile = 1 << 20

// Load reads a threshold file written by Save.
func Load(path string) (*Threshold, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFile+1)); err != nil {
		return nil, fmt.Errorf("threshold file %s: %w", path, err)
	}
	if buf.Len() > maxFile {
		return nil, fmt.Errorf("threshold file %s: larger than %d bytes", path, maxFile)
	}
	return Parse(buf.Bytes(), path)
}

// Parse reads a threshold from the JSON that Save writes; name labels errors.
func Parse(data []byte, name string) (*Threshold, error) {
	var t Threshold
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("threshold file %s: %v", name, err)
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("threshold file %s: %w", name, err)
	}
	return &t, nil
}
