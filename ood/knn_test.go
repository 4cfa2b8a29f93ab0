package ood

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKNNByHand(t *testing.T) {
	// Normalised, the training features are (1,0), (0,1), (1,1)/√2 and (−1,0). The query (2,0)
	// normalises to (1,0); its distances are 0, √(2 − √2), √2 and 2 in order.
	m := handModel(t, []float32{1, 0}, []float32{0}, 2, 1)
	tr := handTrain(m, [][]float32{{1, 0}, {0, 2}, {3, 3}, {-1, 0}}, nil)
	d := NewKNN()
	fitHand(t, m, d, tr)
	want := []float64{0, math.Sqrt(2 - math.Sqrt2), math.Sqrt2, 2}
	for k := 1; k <= 4; k++ {
		d.K = float64(k)
		got := scoreHand(t, m, d, [][]float32{{2, 0}})
		expect(t, "knn", got, []float64{-want[k-1]}, 1e-7)
	}
	d.K = 5
	if err := d.Score(context.Background(), batchOf(m, []float32{2, 0}, []float32{0}, 1), make([]float64, 1)); err == nil {
		t.Error("k = 5 accepted with 4 training images")
	}
}

// TestKNNAgainstBruteForce compares the blocked search with sorting every distance, on random
// features larger than the GEMM's blocks.
func TestKNNAgainstBruteForce(t *testing.T) {
	const n, dim, q = 1000, 37, 21
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = make([]float32, dim)
		for j := range rows[i] {
			rows[i][j] = float32(r.NormFloat64())
		}
	}
	m := handModel(t, make([]float32, dim), []float32{0}, dim, 1)
	d := NewKNN()
	fitHand(t, m, d, handTrain(m, rows, nil))
	queries := make([][]float32, q)
	for i := range queries {
		queries[i] = make([]float32, dim)
		for j := range queries[i] {
			queries[i][j] = float32(r.NormFloat64())
		}
	}
	unit := func(v []float32) []float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / math.Sqrt(s)
		}
		return out
	}
	for _, k := range []int{1, 7, 50, n} {
		d.K = float64(k)
		got := scoreHand(t, m, d, queries)
		for i, qv := range queries {
			z := unit(qv)
			var dist []float64
			for _, row := range rows {
				b := unit(row)
				var s float64
				for j := range z {
					s += (z[j] - b[j]) * (z[j] - b[j])
				}
				dist = append(dist, math.Sqrt(s))
			}
			slices.Sort(dist)
			if math.Abs(got[i]+dist[k-1]) > 1e-6 {
				t.Errorf("k=%d query %d: %v, brute force %v", k, i, got[i], -dist[k-1])
			}
		}
	}
}
