package onnx

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

// cifarImages reads the first n CIFAR-10 test images in [0,1] (n×3×32×32).
func cifarImages(t testing.TB, n int) []float32 {
	t.Helper()
	x, _ := cifarTest(t, n)
	return x
}

// cifarTest reads the first n CIFAR-10 test images in [0,1] (n×3×32×32) and their labels.
func cifarTest(t testing.TB, n int) ([]float32, []int) {
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
	labels := make([]int, n)
	for i := range n {
		labels[i] = int(b[i*rec])
		for _, p := range b[i*rec+1 : (i+1)*rec] {
			x = append(x, float32(p)/255)
		}
	}
	return x, labels
}

// scores returns the baseline (max softmax) and ODIN (T = 1000, ε = 0.0014) scores and the
// predicted classes of n images, on one worker per CPU in micro-batches of batch images. Each
// image's scores do not depend on the others in its micro-batch.
func scores(t testing.TB, m *models.Model, x []float32, n, batch int) (base, odin []float64, pred []int) {
	t.Helper()
	pool := nn.NewPool(m.Graph, runtime.GOMAXPROCS(0), batch)
	batches := make([]*ood.Batch, pool.Workers())
	d := ood.NewODIN()
	size := m.Graph.Input().Size()
	k := m.Classes()
	base, odin, pred = make([]float64, n), make([]float64, n), make([]int, n)
	err := pool.Run(context.Background(), n, func(e *nn.Exec, w, lo, hi int) error {
		if batches[w] == nil || batches[w].Exec != e {
			batches[w] = ood.NewBatch(m, e)
		}
		b := batches[w]
		if err := b.Load(x[lo*size:hi*size], hi-lo); err != nil {
			return err
		}
		for i := range hi - lo {
			f := b.Logits[i*k : (i+1)*k]
			base[lo+i] = ood.MaxSoftmax(f, 1)
			pred[lo+i] = argmax(f)
		}
		return d.Score(context.Background(), b, odin[lo:hi])
	})
	if err != nil {
		t.Fatal(err)
	}
	return base, odin, pred
}

func argmax(f []float32) int {
	best := 0
	for j, v := range f {
		if v > f[best] {
			best = j
		}
	}
	return best
}

// seedImages is how many CIFAR-10 test images TestSeedNetworksThroughONNX scores: all 1000 of
// the images 0–999 when CI=true or ODIN_ONNX_FULL is set, else the first 200 (the
// graphs are the checkpoints' own, so the scores are bit-identical whatever the image count),
// or 50 with -short.
func seedImages() int {
	switch {
	case os.Getenv("CI") == "true" || os.Getenv("ODIN_ONNX_FULL") != "":
		return 1000
	case testing.Short():
		return 50
	}
	return 200
}

// TestSeedNetworksThroughONNX compares the seed's checkpoints, exported to ONNX by PyTorch, with
// the same checkpoints read directly: baseline and ODIN scores on CIFAR-10 test images 0–999.
func TestSeedNetworksThroughONNX(t *testing.T) {
	dir := largeFixtures(t)
	ix := readIndex(t, filepath.Join(dir, "index.json"))
	if len(ix.Checkpoints) == 0 {
		t.Fatal("index.json lists no checkpoints: the generator did not find ../shared/data/models")
	}
	n := seedImages()
	x := cifarImages(t, n)
	for _, ck := range ix.Checkpoints {
		t.Run(ck.Name, func(t *testing.T) {
			ref, err := models.Load(datadir.ForTest(t, ck.Checkpoint), "")
			if err != nil {
				t.Fatal(err)
			}
			b0, o0, p0 := scores(t, ref, x, n, 50)
			// The export that keeps the batch norms builds the checkpoint's own graph: the issue's
			// 1e-6 (the scores are in fact bit-identical). PyTorch's default export folds them into
			// the convolutions' weights in float32, a network that rounds differently: on images
			// 0–999 its scores move by up to 2.0e-5 (resnet20, baseline), so it is held to 5e-5.
			for _, f := range []struct {
				file string
				tol  float64
			}{{ck.File, 1e-6}, {ck.Folded, 5e-5}} {
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

// TestSeedAccuracyThroughONNX classifies the 10,000 CIFAR-10 test images through both ONNX
// exports of each seed checkpoint and expects PyTorch's accuracy of the checkpoint, recorded in
// ../models/testdata/fixtures.json (95.19% and 91.73%). It takes minutes on two cores, so it
// runs only with ODIN_ONNX_FULL set:
//
//	ODIN_ONNX_FULL=1 go test -run SeedAccuracyThroughONNX -v ./onnx
func TestSeedAccuracyThroughONNX(t *testing.T) {
	if os.Getenv("ODIN_ONNX_FULL") == "" {
		t.Skip("10,000 forward passes per export: set ODIN_ONNX_FULL=1")
	}
	dir := largeFixtures(t)
	ix := readIndex(t, filepath.Join(dir, "index.json"))
	var recorded struct {
		Accuracy map[string]struct{ Images, Correct int } `json:"accuracy"`
	}
	b, err := os.ReadFile(filepath.Join("..", "models", "testdata", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &recorded); err != nil {
		t.Fatal(err)
	}
	x, labels := cifarTest(t, 10000)
	for _, ck := range ix.Checkpoints {
		want, ok := recorded.Accuracy[ck.Name]
		if !ok || want.Images != len(labels) {
			t.Fatalf("%s: no 10,000-image accuracy recorded in fixtures.json", ck.Name)
		}
		ref, err := models.Load(datadir.ForTest(t, ck.Checkpoint), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range []string{ck.File, ck.Folded} {
			m, _, err := Load(filepath.Join(dir, file), Options{Mean: ref.Mean, Std: ref.Std})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			correct := classify(t, m, x, labels)
			t.Logf("%s: %d/%d correct (%.2f%%; PyTorch %d), %v", file, correct, len(labels), 100*float64(correct)/float64(len(labels)), want.Correct, time.Since(start).Round(time.Millisecond))
			if correct != want.Correct {
				t.Errorf("%s: %d/%d correct, PyTorch %d", file, correct, len(labels), want.Correct)
			}
		}
	}
}

// classify counts the images that m classifies as labelled, one worker per CPU.
func classify(t testing.TB, m *models.Model, x []float32, labels []int) int {
	t.Helper()
	const batch = 50
	size, k := m.Graph.Input().Size(), m.Classes()
	pool := nn.NewPool(m.Graph, runtime.GOMAXPROCS(0), batch)
	bufs := make([][]float32, pool.Workers())
	var correct atomic.Int64
	err := pool.Run(context.Background(), len(labels), func(e *nn.Exec, w, lo, hi int) error {
		if bufs[w] == nil {
			bufs[w] = make([]float32, batch*size)
		}
		in := bufs[w][:(hi-lo)*size]
		m.Normalize(in, x[lo*size:hi*size], hi-lo)
		if err := e.Forward(in, hi-lo); err != nil {
			return err
		}
		logits := e.Logits(nil)
		for i := range hi - lo {
			if argmax(logits[i*k:(i+1)*k]) == labels[lo+i] {
				correct.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(correct.Load())
}
