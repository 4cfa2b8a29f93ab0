package ood

import "math"

// MaxSoftmax returns max_i softmax(f/T)_i in float64: 1 / Σ_j exp((f_j − f_max)/T).
func MaxSoftmax(f []float32, T float64) float64 {
	m := float64(f[0])
	for _, v := range f[1:] {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range f {
		s += math.Exp((float64(v) - m) / T)
	}
	return 1 / s
}

// Argmax returns the index of the largest value, the first one on ties (as torch.max does on
// the CPU for these sizes): the predicted class of a row of logits.
func Argmax(f []float32) int {
	best := 0
	for i, v := range f {
		if v > f[best] {
			best = i
		}
	}
	return best
}

// logSumExp returns log Σ exp(f_j/T)·T computed stably in float64.
func logSumExp(f []float32, T float64) float64 {
	m := float64(f[0])
	for _, v := range f[1:] {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range f {
		s += math.Exp((float64(v) - m) / T)
	}
	return m + T*math.Log(s)
}

// logSumExp64 returns log Σ exp(f_j), computed stably.
func logSumExp64(f []float64) float64 {
	m := f[0]
	for _, v := range f[1:] {
		m = max(m, v)
	}
	var s float64
	for _, v := range f {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}
