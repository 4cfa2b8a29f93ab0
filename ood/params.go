package ood

import (
	"errors"
	"fmt"
	"math"
)

// Bounds of the temperature and the perturbation magnitude that the detectors accept. A
// temperature below MinTemperature overflows the softmax's exponent for ordinary logits and one
// above MaxTemperature makes every score 1/K to within float64 rounding; a magnitude above
// MaxMagnitude moves each pixel by more than the images' whole range.
const (
	MinTemperature = 1e-3
	MaxTemperature = 1e6
	MaxMagnitude   = 1.0
)

// ErrParam marks a detector parameter out of its range; errors.Is finds it in what CheckODIN,
// CheckTemperature, CheckMagnitude, Parse and CheckParams return.
var ErrParam = errors.New("parameter out of range")

// CheckTemperature reports a temperature that is not a finite number in [MinTemperature,
// MaxTemperature] (NaN and ±Inf included).
func CheckTemperature(t float64) error {
	if !(t >= MinTemperature && t <= MaxTemperature) {
		return fmt.Errorf("temperature %g: %w: want a number from %g to %g", t, ErrParam, MinTemperature, MaxTemperature)
	}
	return nil
}

// CheckMagnitude reports a magnitude ε that is not a finite number in [0, MaxMagnitude].
func CheckMagnitude(eps float64) error {
	if !(eps >= 0 && eps <= MaxMagnitude) {
		return fmt.Errorf("magnitude %g: %w: want a number from 0 to %g", eps, ErrParam, MaxMagnitude)
	}
	return nil
}

// CheckODIN reports ODIN parameters out of range: the one validation of (T, ε) that every user
// of ODIN shares (evaluations, searches, calibration, threshold files, services).
func CheckODIN(temperature, magnitude float64) error {
	if err := CheckTemperature(temperature); err != nil {
		return err
	}
	return CheckMagnitude(magnitude)
}

// Validate reports parameters out of range (CheckODIN).
func (d *ODIN) Validate() error { return CheckODIN(d.Temperature, d.Magnitude) }

// Validator is implemented by detectors whose parameters have a range; CheckParams calls it.
type Validator interface {
	Validate() error
}

// CheckParams reports a detector parameter that is NaN or infinite, and then whatever the
// detector's own Validate reports. Parse calls it on every detector it makes.
func CheckParams(d Detector) error {
	for _, p := range d.Params() {
		if v := *p.Value; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s.%s %g: %w: must be finite", d.Name(), p.Name, v, ErrParam)
		}
	}
	if v, ok := d.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", d.Name(), err)
		}
	}
	return nil
}
