package decision

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odin-ood/odin/metrics"
)

func TestCalibrateExact(t *testing.T) {
	for _, c := range []struct {
		scores        []float64
		tpr           float64
		delta, accept float64
	}{
		{[]float64{0.5, 0.1, 0.4, 0.3, 0.2}, 0.8, 0.2, 0.8},
		{[]float64{0.5, 0.1, 0.4, 0.3, 0.2}, 0.79, 0.2, 0.8},
		{[]float64{0.5, 0.1, 0.4, 0.3, 0.2}, 0.81, 0.1, 1},
		{[]float64{0.5, 0.1, 0.4, 0.3, 0.2}, 0.2, 0.5, 0.2},
		{[]float64{0.5, 0.1, 0.4, 0.3, 0.2}, 1, 0.1, 1},
		// Ties are never split: the tied scores are accepted together.
		{[]float64{0.9, 0.3, 0.3, 0.3, 0.1}, 0.4, 0.3, 0.8},
		{[]float64{7}, 0.95, 7, 1},
	} {
		d, a, err := Calibrate(c.scores, c.tpr)
		if err != nil || d != c.delta || a != c.accept {
			t.Errorf("Calibrate(%v, %v) = %v, %v, %v; want %v, %v", c.scores, c.tpr, d, a, err, c.delta, c.accept)
		}
	}
	for _, c := range []struct {
		scores []float64
		tpr    float64
	}{{nil, 0.95}, {[]float64{1}, 0}, {[]float64{1}, 1.5}, {[]float64{1}, math.NaN()}, {[]float64{1, math.NaN()}, 0.5}} {
		if _, _, err := Calibrate(c.scores, c.tpr); err == nil {
			t.Errorf("Calibrate(%v, %v) accepted", c.scores, c.tpr)
		}
	}
}

// The threshold at TPR 0.95 is the one at which package metrics measures FPR95: the OOD images
// that Decide accepts are exactly the FPR95 fraction.
func TestCalibrateMatchesFPR95(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		nIn, nOut := 1+r.IntN(300), 1+r.IntN(300)
		in, out := make([]float64, nIn), make([]float64, nOut)
		for i := range in {
			in[i] = math.Round(r.NormFloat64()*20) / 10 // coarse, so that scores tie
		}
		for i := range out {
			out[i] = math.Round((r.NormFloat64()-1)*20) / 10
		}
		d, _, err := Calibrate(in, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		th := &Threshold{Delta: d}
		accepted := 0
		for _, s := range out {
			if th.Decide(s) {
				accepted++
			}
		}
		res, err := metrics.Compute(in, out, metrics.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(accepted) / float64(nOut); got != res.FPR95 {
			t.Fatalf("trial %d: Decide accepts %v of the OOD scores, FPR95 is %v", trial, got, res.FPR95)
		}
	}
}

func TestThresholdRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "threshold.json")
	want := &Threshold{Method: "odin", Temperature: 1000, Magnitude: 0.0014, Delta: 0.10012345678901234,
		TPR: 0.95, Accepted: 0.951, NN: "densenet10", Network: "DenseNet-BC-100 (k=12)",
		Checkpoint: strings.Repeat("ab", 32), InDataset: "cifar10", First: 0, Count: 1000}
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("read back %+v, wrote %+v", got, want)
	}
	if !got.Decide(want.Delta) || got.Decide(math.Nextafter(want.Delta, 0)) {
		t.Error("Decide does not accept exactly the scores ≥ δ")
	}
	if d := got.Detector(); d.Temperature != 1000 || d.Magnitude != 0.0014 {
		t.Errorf("detector %+v", d)
	}
	if err := got.CheckNetwork(strings.Repeat("ab", 32)); err != nil {
		t.Error(err)
	}
	if err := got.CheckNetwork(strings.Repeat("cd", 32)); !errors.Is(err, ErrOtherNetwork) || !strings.Contains(err.Error(), "abababababab") {
		t.Errorf("other checkpoint: %v", err)
	}
}

func TestLoadThresholdRejects(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct{ text, want string }{
		{`{"method":"odin","temperature":1000,"magnitude":0.0014,"threshold":0.1,"tpr":0.95,"colour":1}`, `unknown field "colour"`},
		{`{"method":"msp","temperature":1,"magnitude":0,"threshold":0.1,"tpr":0.95}`, `method "msp"`},
		{`{"method":"odin","temperature":1000,"magnitude":-0.001,"threshold":0.1,"tpr":0.95}`, "magnitude -0.001"},
		{`{"method":"odin","temperature":0,"magnitude":0,"threshold":0.1,"tpr":0.95}`, "temperature 0"},
		{`{"method":"odin","temperature":1000,"magnitude":0,"threshold":0.1,"tpr":0}`, "tpr 0"},
		{`{"method":"odin",`, "unexpected EOF"},
		{`{"method":"odin","temperature":1e-300,"magnitude":0,"threshold":0.1,"tpr":0.95}`, "temperature 1e-300"},
		{`{"method":"odin","temperature":1e300,"magnitude":0,"threshold":0.1,"tpr":0.95}`, "temperature 1e+300"},
		{`{"method":"odin","temperature":1000,"magnitude":1e300,"threshold":0.1,"tpr":0.95}`, "magnitude 1e+300"},
	} {
		path := filepath.Join(dir, fmt.Sprintf("t%d.json", i))
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.text, err, c.want)
		}
	}
}

func ExampleThreshold_Decide() {
	// A threshold file as odin calibrate writes it.
	path := filepath.Join(os.TempDir(), "odin-example-threshold.json")
	th := &Threshold{Method: "odin", Temperature: 1000, Magnitude: 0.0014, Delta: 0.1003, TPR: 0.95, Accepted: 0.95}
	if err := th.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(path)

	th, err := Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Score inputs with th.Detector() (ood.ODIN with the file's T and ε), then decide.
	for _, s := range []float64{0.1001, 0.1003, 0.1020} {
		fmt.Println(s, th.Decide(s))
	}
	// Output:
	// 0.1001 false
	// 0.1003 true
	// 0.102 true
}

// A threshold applies only to images prepared as its calibration images were.
func TestCheckPreprocess(t *testing.T) {
	crop := `{"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225],"resize":256,"crop":224}`
	th := &Threshold{Preprocess: crop}
	if err := th.CheckPreprocess(crop); err != nil {
		t.Errorf("same preprocessing: %v", err)
	}
	for _, other := range []string{"", `{"resize":232,"crop":224}`} {
		err := th.CheckPreprocess(other)
		if !errors.Is(err, ErrOtherPreprocess) || strings.Contains(err.Error(), "\n") {
			t.Errorf("preprocessing %q: %v, want one line wrapping ErrOtherPreprocess", other, err)
		}
	}
	if err := (&Threshold{}).CheckPreprocess(crop); !errors.Is(err, ErrOtherPreprocess) || !strings.Contains(err.Error(), "the network's own") {
		t.Errorf("calibrated on the network's own, used with a crop: %v", err)
	}
}
