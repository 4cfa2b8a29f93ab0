package ood

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchSetup makes a final layer of densenet10's shape (342 features, 10 classes), n random
// training feature vectors (non-negative, as after ReLU and pooling) and one micro-batch of 16.
func benchSetup(b *testing.B, n int) (*Train, *Batch) {
	const d, k, batch = 342, 10, 16
	r := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, k*d)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.1)
	}
	bias := make([]float32, k)
	m := linearModel(b, w, bias, d, k)
	feats := func(n int) ([]float32, []float32) {
		h := make([]float32, n*d)
		for i := range h {
			h[i] = float32(max(0, r.NormFloat64()))
		}
		f := make([]float32, n*k)
		for i := range n {
			for j := range k {
				var s float32
				for c := range d {
					s += w[j*d+c] * h[i*d+c]
				}
				f[i*k+j] = s
			}
		}
		return h, f
	}
	h, f := feats(n)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % k
	}
	tr := &Train{Name: "bench", N: n, D: d, K: k, Features: h, Logits: f, Labels: labels, Weight: w, Bias: bias}
	qh, qf := feats(batch)
	return tr, batchOf(m, qh, qf, batch)
}

func benchScore(b *testing.B, name string, train int) {
	tr, bt := benchSetup(b, train)
	d, err := New(name)
	if err != nil {
		b.Fatal(err)
	}
	if f, ok := d.(Fitted); ok {
		if err := f.Fit(context.Background(), tr, NewStats(bt.Model, "bench", tr)); err != nil {
			b.Fatal(err)
		}
	}
	dst := make([]float64, bt.N)
	b.ResetTimer()
	for range b.N {
		if err := d.Score(context.Background(), bt, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bt.N)/1e3, "µs/image")
}

// Scoring a micro-batch of 16 from its features and logits, without the network.
func BenchmarkScoreEnergy(b *testing.B)      { benchScore(b, "energy", 100) }
func BenchmarkScoreGradNorm(b *testing.B)    { benchScore(b, "gradnorm", 100) }
func BenchmarkScoreMahalanobis(b *testing.B) { benchScore(b, "mahalanobis", 2000) }
func BenchmarkScoreReAct(b *testing.B)       { benchScore(b, "react", 2000) }
func BenchmarkScoreViM(b *testing.B)         { benchScore(b, "vim", 2000) }

// KNN with a bank of 10,000 training features, as fitted on data_batch_1.bin.
func BenchmarkScoreKNN10000(b *testing.B) { benchScore(b, "knn", 10000) }

func BenchmarkFitMahalanobis10000(b *testing.B) { benchFit(b, "mahalanobis") }
func BenchmarkFitViM10000(b *testing.B)         { benchFit(b, "vim") }

func benchFit(b *testing.B, name string) {
	tr, bt := benchSetup(b, 10000)
	for range b.N {
		d, _ := New(name)
		if err := d.(Fitted).Fit(context.Background(), tr, NewStats(bt.Model, "bench", tr)); err != nil {
			b.Fatal(err)
		}
	}
}
