package onnx

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// cifarImages reads the first n CIFAR-10 test images in [0,1] (n×3×32×32).
func cifarImages(t testing.TB, n int) []float32 {
	t.Helper()
	path := datadir.ForTest(t, "cifar-10-batches-bin/test_batch.bin")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const rec = 1 + 3*32*32
	b := make([]byte, n*rec)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	x := make([]float32, 0, n*(rec-1))
	for i := range n {
		for _, p := range b[i*rec+1 : (i+1)*rec] {
			x = append(x, float32(p)/255)
		}
	}
	return x
}

// scores returns the baseline (max softmax) and ODIN (T = 1000, ε = 0.0014) scores and the
// predicted classes of n images.
func scores(t testing.TB, m *models.Model, x []float32, n, batch int) (base, odin []float64, pred []int) {
	t.Helper()
	b := ood.NewBatch(m, m.Graph.NewExec(batch))
	d := ood.NewODIN()
	size := m.Graph.Input().Size()
	k := m.Classes()
	base, odin, pred = make([]float64, n), make([]float64, n), make([]int, n)
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		if err := b.Load(x[lo*size:hi*size], hi-lo); err != nil {
			t.Fatal(err)
		}
		for i := range hi - lo {
			f := b.Logits[i*k : (i+1)*k]
			base[lo+i] = ood.MaxSoftmax(f, 1)
			best := 0
			for j, v := range f {
				if v > f[best] {
					best = j
				}
			}
			pred[lo+i] = best
		}
		if err := d.Score(context.Background(), b, odin[lo:hi]); err != nil {
			t.Fatal(err)
		}
	}
	return base, odin, pred
}

// TestSeedNetworksThroughONNX compares the seed's checkpoints, exported to ONNX by PyTorch, with
// the same checkpoints read directly: baseline and ODIN scores on CIFAR-10 test images 0–999.
func TestSeedNetworksThroughONNX(t *testing.T) {
	dir := largeFixtures(t)
	ix := readIndex(t, filepath.Join(dir, "index.json"))
	if len(ix.Checkpoints) == 0 {
		t.Fatal("index.json lists no checkpoints: the generator did not find ../shared/data/models")
	}
	// Images 0–999 take about a minute on two cores; the default is the first 200 (the graphs
	// are the checkpoints' own, so the scores are bit-identical whatever the image count).
	n := 200
	if os.Getenv("ODIN_ONNX_FULL") != "" {
		n = 1000
	} else if testing.Short() {
		n = 50
	}
	x := cifarImages(t, n)
	for _, ck := range ix.Checkpoints {
		t.Run(ck.Name, func(t *testing.T) {
			ref, err := models.Load(datadir.ForTest(t, ck.Checkpoint), "")
			if err != nil {
				t.Fatal(err)
			}
			b0, o0, p0 := scores(t, ref, x, n, 50)
			// The export that keeps the batch norms builds the checkpoint's own graph; PyTorch's
			// default export folds them into the convolutions' weights, which round differently.
			for _, f := range []struct {
				file string
				tol  float64
			}{{ck.File, 1e-6}, {ck.Folded, 2e-5}} {
				m, _, err := Load(filepath.Join(dir, f.file), Options{Mean: ref.Mean, Std: ref.Std})
				if err != nil {
					t.Fatal(err)
				}
				b1, o1, p1 := scores(t, m, x, n, 50)
				var db, do float64
				agree := 0
				for i := range n {
					db = max(db, math.Abs(b0[i]-b1[i]))
					do = max(do, math.Abs(o0[i]-o1[i]))
					if p0[i] == p1[i] {
						agree++
					}
				}
				t.Logf("%s: %d images: max |Δbaseline| %.2e, max |Δodin| %.2e, predictions equal %d/%d", f.file, n, db, do, agree, n)
				if db > f.tol || do > f.tol || agree != n {
					t.Errorf("%s: max |Δbaseline| %.2e, max |Δodin| %.2e (limit %.0e), predictions equal %d/%d", f.file, db, do, f.tol, agree, n)
				}
			}
		})
	}
}
