package ood

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	dets, err := Parse(" MSP, odin ,energy", Options{Params: map[string]float64{
		"odin.temperature": 10, "odin.magnitude": 0, "energy.temperature": 3, "knn.k": 7}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dets {
		names = append(names, d.Name())
	}
	if strings.Join(names, ",") != "msp,odin,energy" {
		t.Errorf("parsed %v", names)
	}
	if o := dets[1].(*ODIN); o.Temperature != 10 || o.Magnitude != 0 {
		t.Errorf("odin parameters not applied: %+v", o)
	}
	if e := dets[2].(*Energy); e.Temperature != 3 {
		t.Errorf("energy parameter not applied: %+v", e)
	}
}

func TestParseErrors(t *testing.T) {
	valid := strings.Join(Names(), ", ")
	cases := []struct {
		methods string
		opt     Options
		want    string
	}{
		{"msp,mahalanobs", Options{}, `unknown method "mahalanobs" (valid: ` + valid + ")"},
		{"msp,,odin", Options{}, "empty method name"},
		{"", Options{}, "empty method name"},
		{"odin,msp,odin", Options{}, "method odin given twice"},
		{"odin", Options{Params: map[string]float64{"odin.temprature": 1}}, `odin has no parameter "temprature" (it has: temperature, magnitude)`},
		{"maxlogit", Options{Params: map[string]float64{"maxlogit.t": 1}}, `maxlogit has no parameter "t" (it has: none)`},
		{"msp,knn", Options{}, "knn needs statistics of training images and none were given (methods needing none: energy, gradnorm, maxlogit, msp, odin)"},
		{"knn", Options{Stats: func() (*Stats, error) { return nil, errors.New("no file") }}, "no file"},
	}
	for _, c := range cases {
		_, err := Parse(c.methods, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): %v, want %q", c.methods, err, c.want)
		}
	}
}

// TestParseStats hands statistics to the fitted detectors, and refuses statistics that lack a
// method or come from another network.
func TestParseStats(t *testing.T) {
	m := handModel(t, []float32{1, 0, 0, 1}, []float32{0, 0}, 2, 2)
	tr := handTrain(m, [][]float32{{1, 0}, {-1, 0}, {0, 2}, {0, -2}, {11, 0}, {9, 0}, {10, 2}, {10, -2}}, []int{0, 0, 0, 0, 1, 1, 1, 1})
	s := fitHand(t, m, NewKNN(), tr)
	opt := Options{Model: m, Stats: func() (*Stats, error) { return s, nil }, Params: map[string]float64{"knn.k": 4}}
	dets, err := Parse("energy,knn", opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := scoreHand(t, m, dets[1], [][]float32{{1, 0}}); got[0] >= 0 {
		t.Errorf("knn score %v, want negative: three training features normalise to the query, the fourth does not", got[0])
	}
	_, err = Parse("knn,vim", opt)
	want := "vim: stats (unsaved) hold no vim statistics (they have: knn)"
	if !errors.Is(err, ErrNoStats) || err.Error() != want {
		t.Errorf("missing vim statistics: %v\nwant %s", err, want)
	}
	other := handModel(t, []float32{1, 0, 0, 1, 0, 0}, []float32{0, 0, 0}, 2, 3)
	_, err = Parse("knn", Options{Model: other, Stats: opt.Stats})
	if !errors.Is(err, ErrOtherNetwork) || !strings.Contains(err.Error(), "2 features, 2 classes); this network fixture-fc has 2 features and 3 classes") {
		t.Errorf("statistics of another network: %v", err)
	}
}

func TestFittedNames(t *testing.T) {
	if got := strings.Join(FittedNames(), ","); got != "knn,mahalanobis,mahalanobis_pre,react,vim" {
		t.Errorf("fitted detectors %s", got)
	}
}

// TestNotFitted scores with fitted detectors that were never given statistics.
func TestNotFitted(t *testing.T) {
	m := handModel(t, []float32{1, 0, 0, 1}, []float32{0, 0}, 2, 2)
	for _, name := range FittedNames() {
		d, _ := New(name)
		_, err := scoreHandErr(m, d, []float32{1, 2})
		if !errors.Is(err, ErrNoStats) || !strings.Contains(err.Error(), name+": no fitted statistics") {
			t.Errorf("%s without statistics: %v", name, err)
		}
	}
}
