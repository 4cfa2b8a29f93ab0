package ood

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/odin-ood/odin/models"
)

// StatsVersion is the version of the statistics file format that this package writes and reads.
const StatsVersion = 1

// statsMagic opens every statistics file.
const statsMagic = "ODINSTAT"

// Stats holds the fitted statistics of one network: named arrays of float32 or float64 values,
// each with a shape, as the Fitted detectors record them ("knn.bank", "mahalanobis.means", …),
// together with what identifies the network and the training images.
//
// # File format (version 1)
//
// All integers and floats are little-endian.
//
//	bytes 0–7    "ODINSTAT"
//	bytes 8–11   format version, uint32 (1)
//	bytes 12–15  header length H, uint32
//	bytes 16…    header: H bytes of JSON (statsHeader)
//	then         payload: the arrays back to back, each at its offset from the payload's start
//
// The header records nn (the name the network was given as), network (its architecture, e.g.
// "DenseNet-BC-100 (k=12)"), fingerprint ("sha256:" and the hex SHA-256 of the final layer's
// float32 weights then biases, little-endian), features and classes (D and K), train and
// images (the training images' description and count), methods (the detectors fitted), the
// CRC-32 (IEEE) of the payload, and for each array its name, dtype ("float32" or "float64"),
// shape and offset; and, only when they are not the defaults, tap (the feature tap the
// statistics were fitted on, Stats.Tap) and preprocess (the preprocessing of the training
// images, Stats.Preprocess). Readers refuse other versions, bad magic, truncated or corrupted
// payloads, and arrays that do not fit their shapes; a file without tap or preprocess (as
// written before they were recorded) is of the default tap and the network's own preprocessing.
type Stats struct {
	// NN is the network's name as given to odin fit (--nn), e.g. "densenet10".
	NN string
	// Network is the architecture's name (models.Model.Name).
	Network string
	// Fingerprint identifies the network's final layer; statistics are used only with a
	// network with the same fingerprint.
	Fingerprint string
	// Features and Classes are the network's D and K.
	Features, Classes int
	// Train describes the training images, Images counts them.
	Train  string
	Images int
	// Methods lists the detectors whose statistics were fitted, sorted.
	Methods []string
	// Tap is the feature tap of the network the features were read from, as it was given
	// (experiment.Network.Features: an ONNX node or value), "" for the default (the input of the
	// final Gemm/MatMul). Statistics apply only to features of the same tap (CheckFeatures).
	Tap string
	// Preprocess is the preprocessing the training images went through when one replaced the
	// network's own (the JSON of models.Preprocess as experiment.Network.PreprocessJSON writes
	// it), "" for the network's own. Statistics apply only to images prepared the same way
	// (CheckPreprocess).
	Preprocess string
	// Path is the file the statistics were read from or last saved to, for messages.
	Path string
	// Checksum is the CRC-32 of the payload of that file, which identifies its contents.
	Checksum uint32

	arrays map[string]*array
}

type array struct {
	shape []int
	dtype string // "float32" (f32 holds the values) or "float64" (f64)
	f32   []float32
	f64   []float64
}

func (a *array) len() int {
	if a.dtype == "float32" {
		return len(a.f32)
	}
	return len(a.f64)
}

type statsHeader struct {
	NN          string       `json:"nn"`
	Network     string       `json:"network"`
	Fingerprint string       `json:"fingerprint"`
	Features    int          `json:"features"`
	Classes     int          `json:"classes"`
	Train       string       `json:"train"`
	Images      int          `json:"images"`
	Methods     []string     `json:"methods"`
	Tap         string       `json:"tap,omitempty"`
	Preprocess  string       `json:"preprocess,omitempty"`
	PayloadCRC  uint32       `json:"payload_crc32"`
	Arrays      []arrayEntry `json:"arrays"`
}

type arrayEntry struct {
	Name   string `json:"name"`
	Dtype  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Offset int64  `json:"offset"`
}

// NewStats returns empty statistics for network m (called nn by the user) fitted on train.
func NewStats(m *models.Model, nn string, train *Train) *Stats {
	return &Stats{NN: nn, Network: m.Name, Fingerprint: Fingerprint(m), Features: featureDim(m),
		Classes: m.Classes(), Train: train.Name, Images: train.N, arrays: map[string]*array{}}
}

// Fingerprint identifies a network by its final linear layer: "sha256:" and the hex SHA-256 of
// its weights then biases as little-endian float32. It is "" for a network without one.
func Fingerprint(m *models.Model) string {
	w, b, ok := m.Graph.Linear()
	if !ok {
		return ""
	}
	h := sha256.New()
	buf := make([]byte, 4*(len(w)+len(b)))
	for i, v := range append(slices.Clip(w), b...) {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	h.Write(buf)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Check reports whether s was fitted on network m, and if not says how it differs.
func (s *Stats) Check(m *models.Model) error {
	d, k := featureDim(m), m.Classes()
	if s.Features != d || s.Classes != k {
		return errorOf(ErrOtherNetwork, "stats %s were fitted on %s (%s, %d features, %d classes); this network %s has %d features and %d classes",
			s.name(), s.NN, s.Network, s.Features, s.Classes, m.Name, d, k)
	}
	if fp := Fingerprint(m); fp != s.Fingerprint {
		return errorOf(ErrOtherNetwork, "stats %s were fitted on %s (%s), whose final layer differs from this network's",
			s.name(), s.NN, s.Network)
	}
	return nil
}

// CheckFeatures reports whether s was fitted on the feature tap tap (as Tap records it, "" for
// the default); the error wraps ErrOtherFeatures.
func (s *Stats) CheckFeatures(tap string) error {
	if s.Tap != tap {
		return fmt.Errorf("%w: stats %s were fitted on %s, used with %s", ErrOtherFeatures, s.name(), describeTap(s.Tap), describeTap(tap))
	}
	return nil
}

// CheckPreprocess reports whether s was fitted on images prepared with the preprocessing p (as
// Preprocess records it, "" for the network's own); the error wraps ErrOtherPreprocess.
func (s *Stats) CheckPreprocess(p string) error {
	if s.Preprocess != p {
		return fmt.Errorf("%w: stats %s were fitted with %s, used with %s", ErrOtherPreprocess, s.name(), describePreprocess(s.Preprocess), describePreprocess(p))
	}
	return nil
}

func describeTap(tap string) string {
	if tap == "" {
		return "the default features (the input of the final Gemm/MatMul)"
	}
	return "the features of " + tap
}

func describePreprocess(p string) string {
	if p == "" {
		return "the network's own preprocessing"
	}
	return "preprocessing " + p
}

func (s *Stats) name() string {
	if s.Path == "" {
		return "(unsaved)"
	}
	return s.Path
}

// Has reports whether s holds an array called name.
func (s *Stats) Has(name string) bool {
	_, ok := s.arrays[name]
	return ok
}

// Names lists the arrays of s, sorted.
func (s *Stats) Names() []string {
	names := make([]string, 0, len(s.arrays))
	for n := range s.arrays {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Put32 records v (of the given shape) as float32 under name, replacing any array of that name.
func (s *Stats) Put32(name string, v []float32, shape ...int) {
	s.put(name, &array{shape: slices.Clone(shape), dtype: "float32", f32: v})
}

// Put64 records v (of the given shape) as float64 under name.
func (s *Stats) Put64(name string, v []float64, shape ...int) {
	s.put(name, &array{shape: slices.Clone(shape), dtype: "float64", f64: v})
}

func (s *Stats) put(name string, a *array) {
	if s.arrays == nil {
		s.arrays = map[string]*array{}
	}
	s.arrays[name] = a
}

// AddMethod records that method was fitted.
func (s *Stats) AddMethod(method string) {
	if !slices.Contains(s.Methods, method) {
		s.Methods = append(s.Methods, method)
		sort.Strings(s.Methods)
	}
}

// Get32 returns the float32 array called name, which must have the given shape; a dimension of -1
// matches any size. The slice is the Stats' own.
func (s *Stats) Get32(name string, shape ...int) ([]float32, []int, error) {
	a, err := s.get(name, "float32", shape)
	if err != nil {
		return nil, nil, err
	}
	return a.f32, a.shape, nil
}

// Get64 is Get32 for float64 arrays.
func (s *Stats) Get64(name string, shape ...int) ([]float64, []int, error) {
	a, err := s.get(name, "float64", shape)
	if err != nil {
		return nil, nil, err
	}
	return a.f64, a.shape, nil
}

func (s *Stats) get(name, dtype string, shape []int) (*array, error) {
	a, ok := s.arrays[name]
	if !ok {
		return nil, &MissingError{Stats: s.name(), Array: name}
	}
	if a.dtype != dtype {
		return nil, fmt.Errorf("stats %s: %s is not %s", s.name(), name, dtype)
	}
	bad := len(a.shape) != len(shape)
	for i := 0; !bad && i < len(shape); i++ {
		bad = shape[i] >= 0 && a.shape[i] != shape[i]
	}
	if bad {
		return nil, fmt.Errorf("stats %s: %s has shape %v, want %v for %s with %d features and %d classes",
			s.name(), name, a.shape, shape, s.NN, s.Features, s.Classes)
	}
	return a, nil
}

// MissingError reports statistics that a file does not hold.
type MissingError struct {
	Stats, Array string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("stats %s hold no %s", e.Stats, e.Array)
}

// Save writes s to path (creating its folder), through a temporary file renamed into place so that
// an interrupted save leaves any previous file intact.
func (s *Stats) Save(path string) error {
	names := s.Names()
	h := statsHeader{NN: s.NN, Network: s.Network, Fingerprint: s.Fingerprint, Features: s.Features,
		Classes: s.Classes, Train: s.Train, Images: s.Images, Methods: s.Methods, Tap: s.Tap, Preprocess: s.Preprocess}
	if h.Methods == nil {
		h.Methods = []string{}
	}
	var payload bytes.Buffer
	for _, n := range names {
		a := s.arrays[n]
		if want := product(a.shape); want != a.len() {
			return fmt.Errorf("stats %s: %s has %d values for shape %v", path, n, a.len(), a.shape)
		}
		e := arrayEntry{Name: n, Shape: a.shape, Offset: int64(payload.Len())}
		if e.Shape == nil {
			e.Shape = []int{}
		}
		var buf []byte
		e.Dtype = a.dtype
		if a.dtype == "float32" {
			buf = make([]byte, 4*len(a.f32))
			for i, v := range a.f32 {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
		} else {
			buf = make([]byte, 8*len(a.f64))
			for i, v := range a.f64 {
				binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
			}
		}
		payload.Write(buf)
		h.Arrays = append(h.Arrays, e)
	}
	h.PayloadCRC = crc32.ChecksumIEEE(payload.Bytes())
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".stats-*")
	if err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	defer os.Remove(f.Name())
	var pre [16]byte
	copy(pre[:], statsMagic)
	binary.LittleEndian.PutUint32(pre[8:], StatsVersion)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hj)))
	for _, part := range [][]byte{pre[:], hj, payload.Bytes()} {
		if _, err := f.Write(part); err != nil {
			f.Close()
			return fmt.Errorf("stats %s: %v", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("stats %s: %v", path, err)
	}
	s.Path, s.Checksum = path, h.PayloadCRC
	return nil
}

// ReadStats reads a statistics file written by Save.
func ReadStats(path string) (*Stats, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("stats %s: %w", path, os.ErrNotExist)
		}
		return nil, err
	}
	s, err := parseStats(data)
	if err != nil {
		return nil, fmt.Errorf("stats %s: %w", path, err)
	}
	s.Path = path
	return s, nil
}

func parseStats(data []byte) (*Stats, error) {
	if len(data) < 16 || string(data[:8]) != statsMagic {
		return nil, errors.New("not an odin statistics file (no ODINSTAT header)")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != StatsVersion {
		return nil, errorOf(ErrStatsVersion, "format version %d, this odin reads version %d", v, StatsVersion)
	}
	hl := int64(binary.LittleEndian.Uint32(data[12:]))
	if 16+hl > int64(len(data)) {
		return nil, fmt.Errorf("truncated: header of %d bytes, file has %d after the prefix", hl, len(data)-16)
	}
	var h statsHeader
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("header: trailing data after the JSON object")
	}
	payload := data[16+hl:]
	if c := crc32.ChecksumIEEE(payload); c != h.PayloadCRC {
		return nil, fmt.Errorf("payload of %d bytes fails its checksum (truncated or corrupted)", len(payload))
	}
	s := &Stats{NN: h.NN, Network: h.Network, Fingerprint: h.Fingerprint, Features: h.Features,
		Classes: h.Classes, Train: h.Train, Images: h.Images, Methods: h.Methods, Tap: h.Tap, Preprocess: h.Preprocess,
		Checksum: h.PayloadCRC, arrays: map[string]*array{}}
	// The arrays must tile the payload, back to back in the order of their offsets.
	order := slices.Clone(h.Arrays)
	slices.SortStableFunc(order, func(a, b arrayEntry) int { return cmp.Compare(a.Offset, b.Offset) })
	var end int64
	for _, e := range order {
		size := map[string]int64{"float32": 4, "float64": 8}[e.Dtype]
		if size == 0 {
			return nil, fmt.Errorf("array %s: dtype %q (want float32 or float64)", e.Name, e.Dtype)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt32/int64(d)) {
				return nil, fmt.Errorf("array %s: bad shape %v", e.Name, e.Shape)
			}
			n *= int64(d)
		}
		if e.Offset < 0 || e.Offset+n*size > int64(len(payload)) {
			return nil, fmt.Errorf("array %s: %d values at offset %d run past the payload's %d bytes", e.Name, n, e.Offset, len(payload))
		}
		if e.Offset != end {
			return nil, fmt.Errorf("array %s: starts at offset %d, the previous array ends at %d", e.Name, e.Offset, end)
		}
		if s.Has(e.Name) {
			return nil, fmt.Errorf("array %s appears twice", e.Name)
		}
		raw := payload[e.Offset : e.Offset+n*size]
		a := &array{shape: e.Shape, dtype: e.Dtype}
		if size == 4 {
			a.f32 = make([]float32, n)
			for i := range a.f32 {
				a.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			a.f64 = make([]float64, n)
			for i := range a.f64 {
				a.f64[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		s.arrays[e.Name] = a
		end = e.Offset + n*size
	}
	if end != int64(len(payload)) {
		return nil, fmt.Errorf("payload has %d bytes, its arrays end at %d", len(payload), end)
	}
	return s, nil
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// joinNames lists names for messages.
func joinNames(names []string) string { return strings.Join(names, ", ") }
