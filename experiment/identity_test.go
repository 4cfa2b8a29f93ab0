package experiment

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// withDigest is a set whose manifest records a content digest.
type withDigest struct {
	dataset.Dataset
	digest string
}

func (w withDigest) ContentDigest() string { return w.digest }

// Changing any one field of a ScoreIdentity, kernel included, changes its folder. The fields are
// enumerated by reflection, so a field added later without a place in Map fails here.
func TestScoreIdentityEveryField(t *testing.T) {
	base := ScoreIdentity{Network: "n", Checkpoint: "sha256:aa", Kernel: "avx2", Arithmetic: "winograd2x2", Temperature: 1000, Magnitude: 0.0014,
		Methods: []string{"msp", "odin"}, Stats: "crc32:01", Preprocess: `{"crop":224}`, Features: "flatten",
		Images: Images{Set: "Imagenet", Source: "s", Digest: "d", Construction: "seed", Seed: 1, First: 1000, Count: 9000}}
	seen := map[string]string{base.Dir(): "base"}
	var vary func(v reflect.Value, path string)
	vary = func(v reflect.Value, path string) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			if f.Kind() == reflect.Struct {
				vary(f, name+".")
				continue
			}
			old := reflect.ValueOf(f.Interface())
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Float64:
				f.SetFloat(f.Float() * 2)
			case reflect.Int:
				f.SetInt(f.Int() + 1)
			case reflect.Uint64:
				f.SetUint(f.Uint() + 1)
			case reflect.Slice:
				f.Set(reflect.ValueOf([]string{"msp", "energy"}))
			default:
				t.Fatalf("field %s of kind %s: teach this test to change it", name, f.Kind())
			}
			d := base.Dir()
			if other, dup := seen[d]; dup {
				t.Errorf("changing %s gives the folder of %s", name, other)
			}
			seen[d] = name
			f.Set(old)
		}
	}
	vary(reflect.ValueOf(&base).Elem(), "")
	if len(seen) != 18 {
		t.Errorf("%d distinct folders, want 18 (base and 17 fields)", len(seen))
	}
	// Without a preprocessing, a feature tap or a newer arithmetic the identity is what it was
	// before they existed, so the scores cached then keep their folders.
	plain := base
	plain.Preprocess, plain.Features, plain.Arithmetic = "", "", ""
	for _, k := range []string{"preprocess", "features", "arithmetic"} {
		if _, ok := plain.Map()[k]; ok {
			t.Errorf("identity without %s records the key %q", k, k)
		}
	}
}

// NewEval, the assembly that odin eval and odin reproduce use, gives scores a new cache folder
// whenever the checkpoint, T, ε, the methods, the fitted statistics or the images change.
func TestNewEvalIdentity(t *testing.T) {
	m := smallNet(t)
	cache := t.TempDir()
	stats := filepath.Join(t.TempDir(), "a.stats")
	otherStats := filepath.Join(t.TempDir(), "b.stats")
	fitReact(t, m, stats, 1)
	fitReact(t, m, otherStats, 2)
	in := dataset.Gaussian(60, 1)
	out := withDigest{dataset.Uniform(60, 2), "sha256:01"}
	base := func() Setup {
		return Setup{Net: &Network{Model: m, NN: "small", Checkpoint: "sha256:aa", InSet: "Gaussian"},
			Methods: "msp,odin,react", Temperature: 1000, Magnitude: 0.0014, Stats: stats,
			In: Range{in, 10, 20}, Out: Range{out, 10, 20}, InSet: "Gaussian", OutSet: "Uniform",
			Construction: "seed", Workers: 1, Batch: 4, Cache: cache}
	}
	dirs := func(s Setup) (string, string) {
		ev, err := NewEval(s)
		if err != nil {
			t.Fatal(err)
		}
		return ev.InCache, ev.OutCache
	}
	in0, out0 := dirs(base())
	if in0 == "" || out0 == "" || filepath.Dir(in0) != filepath.Join(cache, "scores") {
		t.Fatalf("cache folders %q, %q", in0, out0)
	}
	for _, c := range []struct {
		name      string
		change    func(*Setup)
		in, out   bool // whether the in-distribution and the OOD folders must change
		sameOther bool // whether the other must stay
	}{
		{"checkpoint", func(s *Setup) { s.Net.Checkpoint = "sha256:bb" }, true, true, false},
		{"temperature", func(s *Setup) { s.Temperature = 500 }, true, true, false},
		{"magnitude", func(s *Setup) { s.Magnitude = 0.002 }, true, true, false},
		{"methods", func(s *Setup) { s.Methods = "msp,odin" }, true, true, false},
		{"method order", func(s *Setup) { s.Methods = "odin,msp,react" }, true, true, false},
		{"statistics", func(s *Setup) { s.Stats = otherStats }, true, true, false},
		{"in images", func(s *Setup) { s.In.First = 11 }, true, false, true},
		{"in count", func(s *Setup) { s.In.Count = 21 }, true, false, true},
		{"OOD images", func(s *Setup) { s.Out.First = 11 }, false, true, true},
		{"OOD content", func(s *Setup) { s.Out.Data = withDigest{dataset.Uniform(60, 2), "sha256:02"} }, false, true, true},
		{"OOD seed", func(s *Setup) { s.Seed = 7 }, false, true, true},
		{"OOD construction", func(s *Setup) { s.Construction = "clean" }, false, true, true},
	} {
		s := base()
		c.change(&s)
		i, o := dirs(s)
		if c.in && i == in0 || c.out && o == out0 {
			t.Errorf("%s: in-distribution folder changed %v, OOD folder changed %v", c.name, i != in0, o != out0)
		}
		if c.sameOther && (!c.in && i != in0 || !c.out && o != out0) {
			t.Errorf("%s: changed the folder of the other set's scores", c.name)
		}
	}
	// The kernel enters through CurrentKernel; Setup.Identities records it.
	ev, _ := NewEval(base())
	if ev.InIdentity["kernel"] != CurrentKernel() || ev.InIdentity["kernel"] == "" {
		t.Errorf("identity records kernel %q, in use %q", ev.InIdentity["kernel"], CurrentKernel())
	}
}

// fitReact fits ReAct's statistics on noise images of the given seed and saves them.
func fitReact(t *testing.T, m *models.Model, path string, seed uint64) {
	t.Helper()
	tr, err := ood.Extract(context.Background(), m, dataset.Gaussian(8, seed), 8, 1, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := ood.NewStats(m, "small", tr)
	if err := ood.NewReAct().Fit(context.Background(), tr, s); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
}
