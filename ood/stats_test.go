package ood

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleStats(t testing.TB) (*Stats, string) {
	t.Helper()
	m := handModel(t, []float32{1, 2, 3, 4}, []float32{5, 6}, 2, 2)
	tr := handTrain(m, [][]float32{{1, 0}, {0, 1}}, nil)
	s := NewStats(m, "hand", tr)
	s.Put32("a.x", []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	s.Put64("b.y", []float64{0.5, -1e300}, 2)
	s.AddMethod("b")
	s.AddMethod("a")
	path := filepath.Join(t.TempDir(), "sub", "hand.stats")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestStatsRoundTrip(t *testing.T) {
	s, path := sampleStats(t)
	r, err := ReadStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.NN != "hand" || r.Features != 2 || r.Classes != 2 || r.Images != 2 || r.Train != "hand" ||
		r.Fingerprint != s.Fingerprint || !strings.HasPrefix(r.Fingerprint, "sha256:") ||
		strings.Join(r.Methods, ",") != "a,b" || r.Path != path {
		t.Errorf("header read back as %+v", r)
	}
	x, shape, err := r.Get32("a.x", 2, -1)
	if err != nil || len(x) != 6 || x[5] != 6 || shape[1] != 3 {
		t.Errorf("a.x read back as %v %v (%v)", x, shape, err)
	}
	y, _, err := r.Get64("b.y", 2)
	if err != nil || y[0] != 0.5 || y[1] != -1e300 {
		t.Errorf("b.y read back as %v (%v)", y, err)
	}
	if _, _, err := r.Get32("a.x", 3, 2); err == nil || !strings.Contains(err.Error(), "has shape [2 3], want [3 2]") {
		t.Errorf("wrong shape: %v", err)
	}
	if _, _, err := r.Get64("a.x", 2, 3); err == nil || !strings.Contains(err.Error(), "is not float64") {
		t.Errorf("wrong dtype: %v", err)
	}
	var miss *MissingError
	if _, _, err := r.Get32("c.z"); !errors.As(err, &miss) {
		t.Errorf("missing array: %v", err)
	}
}

// TestStatsBadFiles corrupts a statistics file in the ways a reader must notice.
func TestStatsBadFiles(t *testing.T) {
	_, path := sampleStats(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint32(good[12:]))
	cases := []struct {
		name, want string
		edit       func([]byte) []byte
	}{
		{"magic", "not an odin statistics file", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"empty", "not an odin statistics file", func(b []byte) []byte { return b[:0] }},
		{"version", "format version 2, this odin reads version 1", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 2)
			return b
		}},
		{"header length", "truncated: header of", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[12:], 1<<20)
			return b
		}},
		{"header", "header:", func(b []byte) []byte { b[16] = '['; return b }},
		{"truncated", "fails its checksum", func(b []byte) []byte { return b[:len(b)-3] }},
		{"flipped", "fails its checksum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"shape", "starts at offset 24, the previous array ends at 36", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"shape":[2,3]`, `"shape":[3,3]`, 1))
		}},
		{"past", "run past the payload", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"shape":[2],`, `"shape":[3],`, 1))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(append([]byte(nil), good...))
			if len(b) == len(good) && hl != int(binary.LittleEndian.Uint32(b[12:])) && c.name != "header length" {
				t.Fatal("edit changed the header's length")
			}
			p := filepath.Join(t.TempDir(), "bad.stats")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadStats(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("got %v, want an error naming %s and saying %q", err, p, c.want)
			}
		})
	}
	_, err = ReadStats(filepath.Join(t.TempDir(), "none.stats"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestStatsCheck refuses statistics of another network: other shapes, or the same shapes with
// another final layer.
func TestStatsCheck(t *testing.T) {
	s, _ := sampleStats(t)
	same := handModel(t, []float32{1, 2, 3, 4}, []float32{5, 6}, 2, 2)
	if err := s.Check(same); err != nil {
		t.Errorf("same network refused: %v", err)
	}
	wider := handModel(t, []float32{1, 2, 3, 4, 5, 6}, []float32{5, 6}, 3, 2)
	if err := s.Check(wider); err == nil || !strings.Contains(err.Error(), "fitted on hand (fixture-fc, 2 features, 2 classes); this network fixture-fc has 3 features and 2 classes") {
		t.Errorf("wider network: %v", err)
	}
	other := handModel(t, []float32{1, 2, 3, 5}, []float32{5, 6}, 2, 2)
	if err := s.Check(other); err == nil || !strings.Contains(err.Error(), "final layer differs") {
		t.Errorf("other weights: %v", err)
	}
}

// Statistics record the feature tap and the preprocessing they were fitted with; a file without
// them (as written before they were recorded) is of the default tap and the network's own
// preprocessing, and Parse refuses statistics used with another tap or preprocessing.
func TestStatsTapAndPreprocess(t *testing.T) {
	m := handModel(t, []float32{1, 2, 3, 4}, []float32{5, 6}, 2, 2)
	tr := handTrain(m, [][]float32{{1, 0}, {0, 1}, {2, 1}, {1, 3}}, []int{0, 1, 0, 1})
	s := fitHand(t, m, NewReAct(), tr)
	s.AddMethod("react")
	old := filepath.Join(t.TempDir(), "old.stats")
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"tap"`) || strings.Contains(string(raw), `"preprocess"`) {
		t.Errorf("defaults written to the header: %s", raw[16:16+binary.LittleEndian.Uint32(raw[12:])])
	}
	r, err := ReadStats(old)
	if err != nil || r.Tap != "" || r.Preprocess != "" {
		t.Fatalf("old file: tap %q, preprocess %q, %v", r.Tap, r.Preprocess, err)
	}
	const pre = `{"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25],"resize":36,"crop":32,"interpolation":"bilinear","scale":0.00392156862745098}`
	s.Tap, s.Preprocess = "/pool/Flatten_output_0", pre
	fitted := filepath.Join(t.TempDir(), "fitted.stats")
	if err := s.Save(fitted); err != nil {
		t.Fatal(err)
	}
	r, err = ReadStats(fitted)
	if err != nil || r.Tap != s.Tap || r.Preprocess != pre {
		t.Fatalf("read back tap %q, preprocess %q, %v", r.Tap, r.Preprocess, err)
	}

	parse := func(path, tap, pre string) error {
		_, err := Parse("msp,react", Options{Model: m, Features: tap, Preprocess: pre, Stats: func() (*Stats, error) { return ReadStats(path) }})
		return err
	}
	for _, c := range []struct {
		path, tap, pre string
		kind           error
		want           string
	}{
		{old, "", "", nil, ""},
		{fitted, s.Tap, pre, nil, ""},
		{old, "", pre, ErrOtherPreprocess, "stats " + old + " were fitted with the network's own preprocessing, used with preprocessing " + pre},
		{fitted, s.Tap, "", ErrOtherPreprocess, "were fitted with preprocessing " + pre + ", used with the network's own preprocessing"},
		{old, "/pool/Flatten_output_0", "", ErrOtherFeatures, "were fitted on the default features (the input of the final Gemm/MatMul), used with the features of /pool/Flatten_output_0"},
		{fitted, "", pre, ErrOtherFeatures, "were fitted on the features of /pool/Flatten_output_0, used with the default features"},
	} {
		err := parse(c.path, c.tap, c.pre)
		switch {
		case c.kind == nil && err != nil:
			t.Errorf("%s with tap %q, preprocess %q refused: %v", filepath.Base(c.path), c.tap, c.pre, err)
		case c.kind != nil && (!errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s with tap %q, preprocess %q: %v\nwant %v: …%s", filepath.Base(c.path), c.tap, c.pre, err, c.kind, c.want)
		}
	}
	if err := r.CheckFeatures(r.Tap); err != nil {
		t.Error(err)
	}
	if err := r.CheckPreprocess(""); !errors.Is(err, ErrOtherPreprocess) || errors.Is(err, ErrOtherFeatures) {
		t.Errorf("CheckPreprocess: %v", err)
	}
}
