package ood

import (
	"context"
	"errors"
	"math"
	"testing"
)

// The hostile values, and the bounds themselves, through every door: CheckODIN, Parse's
// parameters, a detector scoring directly.
func TestODINParams(t *testing.T) {
	good := [][2]float64{{MinTemperature, 0}, {MaxTemperature, MaxMagnitude}, {1000, 0.0014}, {1, 0}}
	bad := [][2]float64{{math.NaN(), 0}, {math.Inf(1), 0}, {math.Inf(-1), 0}, {1e-300, 0}, {0, 0}, {-1, 0},
		{1e300, 0}, {1000, math.NaN()}, {1000, math.Inf(1)}, {1000, 1e300}, {1000, -0.001}, {1000, -1e-300}}
	for _, p := range good {
		if err := CheckODIN(p[0], p[1]); err != nil {
			t.Errorf("T=%g ε=%g refused: %v", p[0], p[1], err)
		}
	}
	for _, p := range bad {
		if err := CheckODIN(p[0], p[1]); !errors.Is(err, ErrParam) {
			t.Errorf("T=%g ε=%g: %v, want ErrParam", p[0], p[1], err)
		}
		_, err := Parse("msp,odin", Options{Params: map[string]float64{"odin.temperature": p[0], "odin.magnitude": p[1]}})
		if !errors.Is(err, ErrParam) {
			t.Errorf("Parse with T=%g ε=%g: %v, want ErrParam", p[0], p[1], err)
		}
		if err := (&ODIN{Temperature: p[0], Magnitude: p[1]}).Score(context.Background(), nil, nil); !errors.Is(err, ErrParam) {
			t.Errorf("ODIN.Score with T=%g ε=%g: %v, want ErrParam", p[0], p[1], err)
		}
	}
	// Every parameter of every detector must be finite.
	for method, param := range map[string]string{"energy": "temperature", "gradnorm": "temperature", "react": "percentile"} {
		_, err := Parse(method, Options{Params: map[string]float64{method + "." + param: math.Inf(1)}})
		if !errors.Is(err, ErrParam) {
			t.Errorf("%s.%s = +Inf: %v, want ErrParam", method, param, err)
		}
	}
}
