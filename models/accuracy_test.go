package models

import (
	"context"
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
	"github.com/odin-ood/odin/nn"
)

// TestDenseNet10Accuracy500 classifies the first 500 CIFAR-10 test images through an nn.Pool and
// expects exactly PyTorch's predictions on them (recorded by gen_torch.py). The full 10,000-image
// check is `odin accuracy`, too slow for a test.
func TestDenseNet10Accuracy500(t *testing.T) {
	f := readFixtures(t)
	want := f.First500
	if want.Network != "densenet10" || len(want.Predictions) != want.Images {
		t.Fatalf("fixtures.json: first500 is for %s with %d predictions", want.Network, len(want.Predictions))
	}
	m, err := Load(datadir.ForTest(t, "models/densenet10.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	images, labels := cifarTest(t, want.Images)
	const workers, batch = 2, 25
	k := m.Classes()
	pred := make([]int, want.Images)
	bufs := make([][]float32, workers)
	err = nn.NewPool(m.Graph, workers, batch).Run(context.Background(), want.Images, func(e *nn.Exec, w, lo, hi int) error {
		n := hi - lo
		if bufs[w] == nil {
			bufs[w] = make([]float32, batch*imageSize)
		}
		x := bufs[w][:n*imageSize]
		m.Normalize(x, images[lo*imageSize:hi*imageSize], n)
		if err := e.Forward(x, n); err != nil {
			return err
		}
		logits := e.Logits(nil)
		for i := range n {
			pred[lo+i] = argmax(logits[i*k : (i+1)*k])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	correct, differ := 0, 0
	for i, p := range pred {
		if p == labels[i] {
			correct++
		}
		if p != want.Predictions[i] {
			differ++
			t.Errorf("image %d: predicted %d, PyTorch %d", i, p, want.Predictions[i])
		}
	}
	t.Logf("densenet10: %d of %d correct (PyTorch %d), %d predictions differ", correct, want.Images, want.Correct, differ)
	if correct != want.Correct {
		t.Errorf("%d of %d correct, PyTorch %d", correct, want.Images, want.Correct)
	}
}
