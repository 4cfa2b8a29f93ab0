package experiment

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/onnx"
	"github.com/odin-ood/odin/ood"
)

// This file assembles an evaluation from what a user states (a network, detectors with their
// parameters, two ranges of images, where to keep scores), so that the command line and a
// service build the same Eval with the same score-cache identity.

// Network is a loaded model with what identifies it.
type Network struct {
	Model *models.Model
	NN    string // the name it was given by: a known network's name or a checkpoint path
	Path  string // the checkpoint file
	// Checkpoint is "sha256:<hex>" of the checkpoint file, its identity in score caches.
	Checkpoint string
	// InSet is the in-distribution set: the known network's, else for a 32×32 network cifar10
	// or cifar100 by the class count, else "".
	InSet string
	// Notes are what importing the model changed that the user should be told once (an ONNX
	// model's removed final Softmax).
	Notes []string
	// Preprocess is the preprocessing given when loading (LoadOptions), complete, nil for the
	// network's own normalisation.
	Preprocess *models.Preprocess
	// Features is the ONNX feature tap given when loading, "" for the default.
	Features string
}

// Digest is the checkpoint's hex SHA-256, as decision.Digest returns it and a threshold file
// records it.
func (n *Network) Digest() string { return strings.TrimPrefix(n.Checkpoint, "sha256:") }

// LoadNetwork resolves nn (a known network's name, looked up under dataDir/models, or a
// checkpoint path), builds the model (arch "" infers the architecture) and digests the file.
// LoadNetworkWith takes further options.
func LoadNetwork(nn, arch, dataDir string) (*Network, error) {
	return LoadNetworkWith(nn, LoadOptions{Arch: arch, Data: dataDir})
}

// LoadModel builds the model in a file: an ONNX model (.onnx, imported with opt) or a PyTorch
// checkpoint (arch "" infers the architecture). notes are the ONNX importer's.
func LoadModel(path, arch string, opt onnx.Options) (m *models.Model, notes []string, err error) {
	if isONNX(path) {
		m, rep, err := onnx.Load(path, opt)
		if err != nil {
			return nil, nil, err
		}
		return m, rep.Notes, nil
	}
	m, err = models.Load(path, arch)
	return m, nil, err
}

// ErrRange marks a range of images that a set does not have.
var ErrRange = errors.New("range out of the set")

// NewRange is images first … first+count−1 of ds; count 0 is the rest of the set.
func NewRange(ds dataset.Dataset, first, count int) (Range, error) {
	n := ds.Len() - first
	if count > 0 {
		n = count
	}
	if first < 0 || count < 0 || first >= ds.Len() || first+n > ds.Len() {
		return Range{}, fmt.Errorf("%w: %s has %d images, asked %d from image %d", ErrRange, ds.Name(), ds.Len(), max(n, count), first)
	}
	return Range{Data: ds, First: first, Count: n}, nil
}

// DefaultMethods are the seed's two detectors, baseline and ODIN.
const DefaultMethods = "msp,odin"

// DefaultStatsPath is where statistics of fitted detectors for network nn are kept in the cache
// folder: <cache>/stats/<name>.stats, the name being nn's base name without extension when nn is
// a checkpoint path.
func DefaultStatsPath(cache, nn string) string {
	name := filepath.Base(nn)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	return filepath.Join(cache, "stats", name+".stats")
}

// MissingStatsError reports that detectors need fitted statistics and the file is missing. It
// unwraps to os.ErrNotExist.
type MissingStatsError struct {
	Path    string
	Methods []string // the listed detectors that need them
}

func (e *MissingStatsError) Error() string {
	return fmt.Sprintf("%s needs statistics of training images and %s does not exist", strings.Join(e.Methods, ", "), e.Path)
}

func (e *MissingStatsError) Unwrap() error { return os.ErrNotExist }

// Detectors returns the detectors of a comma-separated method list ("" is DefaultMethods) with
// ODIN's temperature and magnitude applied, reading fitted statistics from statsPath if a listed
// method needs them. statsID identifies those statistics' contents ("" when none are used).
// Statistics fitted on another network, feature tap or preprocessing than net's are refused
// (ood.ErrOtherNetwork, ood.ErrOtherFeatures, ood.ErrOtherPreprocess).
func Detectors(methods string, net *Network, temperature, magnitude float64, statsPath string) (dets []ood.Detector, statsID string, err error) {
	if methods == "" {
		methods = DefaultMethods
	}
	if err := ood.CheckODIN(temperature, magnitude); err != nil {
		return nil, "", err
	}
	names, err := ood.SplitMethods(methods)
	if err != nil {
		return nil, "", err
	}
	var need []string
	for _, n := range names {
		if slices.Contains(ood.FittedNames(), n) {
			need = append(need, n)
		}
	}
	opt := ood.Options{
		Params:     map[string]float64{"odin.temperature": temperature, "odin.magnitude": magnitude},
		Model:      net.Model,
		Features:   net.Features,
		Preprocess: net.PreprocessJSON(),
		Stats: func() (*ood.Stats, error) {
			if statsPath == "" {
				return nil, fmt.Errorf("%s needs statistics of training images: %w", strings.Join(need, ", "), ood.ErrNoStats)
			}
			s, err := ood.ReadStats(statsPath)
			if errors.Is(err, os.ErrNotExist) {
				return nil, &MissingStatsError{Path: statsPath, Methods: need}
			}
			if err != nil {
				return nil, err
			}
			statsID = fmt.Sprintf("crc32:%08x", s.Checksum)
			return s, nil
		},
	}
	dets, err = ood.Parse(methods, opt)
	if err != nil {
		return nil, "", err
	}
	return dets, statsID, nil
}

// Setup is what an evaluation is made of; NewEval turns it into an Eval.
type Setup struct {
	Net     *Network
	Methods string // comma-separated; "" is DefaultMethods
	// Temperature and Magnitude are ODIN's; they must pass ood.CheckODIN.
	Temperature, Magnitude float64
	// Stats is the statistics file of fitted detectors; "" is DefaultStatsPath(Cache, Net.NN).
	Stats string
	// In and Out are the images; InSet and OutSet the names they were opened by.
	In, Out        Range
	InSet, OutSet  string
	Construction   string // how a built OOD set is made ("seed", "clean")
	Seed           uint64 // seed of noise sets and built crops
	Workers, Batch int
	// Cache, if not empty, is the cache folder: scores are kept in <Cache>/scores/<identity>
	// unless ScoresDir is set, and read back by a later evaluation with the same identity.
	Cache string
	// ScoresDir, if not empty, keeps this run's scores in that folder instead (Eval.ScoresDir).
	ScoresDir string
	// Fresh scores everything again: no score is read from or written to the cache.
	Fresh bool
}

// Identities returns the score identities of the in-distribution and the OOD scores of an
// evaluation with the given detectors and statistics.
func (s *Setup) Identities(dets []ood.Detector, statsID string) (in, out ScoreIdentity) {
	base := ScoreIdentity{Network: s.Net.Model.Name, Checkpoint: s.Net.Checkpoint, Kernel: CurrentKernel(),
		Arithmetic: s.Net.Model.Graph.Arithmetic(), Temperature: s.Temperature, Magnitude: s.Magnitude, Methods: detectorNames(dets), Stats: statsID,
		Preprocess: s.Net.PreprocessJSON(), Features: s.Net.Features}
	in, out = base, base
	in.Images = ImagesOf(s.In, s.InSet, "", 0)
	out.Images = ImagesOf(s.Out, s.OutSet, s.Construction, s.Seed)
	return in, out
}

// NewEval makes the detectors and the Eval of a Setup, with its score-cache identities.
func NewEval(s Setup) (*Eval, error) {
	if s.Net == nil || s.In.Data == nil || s.Out.Data == nil {
		return nil, errors.New("evaluation setup: network and both ranges are required")
	}
	if s.InSet == s.OutSet {
		return nil, fmt.Errorf("OOD set %s is the in-distribution set", s.OutSet)
	}
	for _, r := range []Range{s.In, s.Out} {
		if err := CheckImages(s.Net.Model, r.Data); err != nil {
			return nil, err
		}
	}
	stats := s.Stats
	if stats == "" && s.Cache != "" {
		stats = DefaultStatsPath(s.Cache, s.Net.NN)
	}
	dets, statsID, err := Detectors(s.Methods, s.Net, s.Temperature, s.Magnitude, stats)
	if err != nil {
		return nil, err
	}
	inID, outID := s.Identities(dets, statsID)
	ev := &Eval{
		Scorer:    NewScorer(s.Net.Model, dets, s.Workers, s.Batch),
		In:        s.In,
		Out:       s.Out,
		ScoresDir: s.ScoresDir,
		Identity:  runIdentity(s.Net.NN, inID, outID),
	}
	if s.Cache != "" && s.ScoresDir == "" && !s.Fresh {
		ev.InCache, ev.InIdentity = filepath.Join(s.Cache, "scores", inID.Dir()), inID.Map()
		ev.OutCache, ev.OutIdentity = filepath.Join(s.Cache, "scores", outID.Dir()), outID.Map()
	}
	return ev, nil
}

// runIdentity is the identity of a whole evaluation, for a --scores folder: what the two score
// identities share, and each one's images.
func runIdentity(nn string, in, out ScoreIdentity) map[string]string {
	id := in.Map()
	for k := range in.Images.Map("") {
		delete(id, k)
	}
	maps.Copy(id, in.Images.Map("in_"))
	maps.Copy(id, out.Images.Map("out_"))
	id["nn"] = nn
	return id
}

func detectorNames(dets []ood.Detector) []string {
	names := make([]string, len(dets))
	for i, d := range dets {
		names[i] = d.Name()
	}
	return names
}
