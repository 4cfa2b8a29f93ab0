//go:build linux

package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odin-ood/odin/internal/guardpage"
)

// TestMaxPool3s2PageEnd runs the max-pooling row kernels on rows that end at an inaccessible
// page after exactly the 2n+1 values their windows cover: a read past them crashes the test.
func TestMaxPool3s2PageEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for n := 1; n <= 150; n++ {
		var rows [3][]float32
		for i := range rows {
			rows[i] = guardpage.Floats(t, 2*n+1)
			for j := range rows[i] {
				rows[i][j] = float32(r.NormFloat64())
			}
		}
		got, want := make([]float32, n), make([]float32, n)
		if maxPool3s2(got, rows[0], rows[1], rows[2]) != maxPool3s2Go(want, rows[0], rows[1], rows[2]) {
			t.Fatalf("n = %d: the NaN reports differ", n)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n = %d: output %d is %v, want %v", n, i, got[i], want[i])
			}
		}
		v := guardpage.Floats(t, n)
		copy(v, want)
		gi, wi := make([]int32, n), make([]int32, n)
		maxPoolArg3s2(gi, v, rows[0], rows[1], rows[2])
		maxPoolArg3s2Go(wi, v, rows[0], rows[1], rows[2])
		for i := range gi {
			if gi[i] != wi[i] {
				t.Fatalf("n = %d: output %d's first maximum is tap %d, want %d", n, i, gi[i], wi[i])
			}
		}
	}
}
