//go:build !linux

package guardpage

import "testing"

// Floats returns n float32s. Outside Linux there is no guard page behind them: an over-read
// goes unnoticed there.
func Floats(t testing.TB, n int) []float32 {
	t.Helper()
	return make([]float32, n)
}
