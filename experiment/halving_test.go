package experiment

import (
	"context"
	"reflect"
	"testing"

	"github.com/odin-ood/odin/dataset"
)

func TestHalvingSlices(t *testing.T) {
	for _, c := range []struct {
		h     Halving
		count int
		want  []int
	}{
		{DefaultHalving, 1000, []int{63, 250, 1000}},
		{DefaultHalving, 16, []int{1, 4, 16}},
		{DefaultHalving, 3, []int{1, 3}}, // ⌈3/16⌉ = ⌈3/4⌉ = 1: one round fewer
		{Halving{Eta: 2, Rounds: 1}, 50, []int{50}},
		{Halving{Eta: 3, Rounds: 4}, 100, []int{4, 12, 34, 100}},
	} {
		if got := c.h.slices(c.count); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v on %d images: slices %v, want %v", c.h, c.count, got, c.want)
		}
	}
	for _, h := range []Halving{{Eta: 1, Rounds: 3}, {Eta: 4, Rounds: 0}, {Eta: 4, Rounds: 17}} {
		if h.Check() == nil {
			t.Errorf("%+v accepted", h)
		}
	}
}

// A successive-halving search scores the surviving cells on every image, so their metrics equal
// the full grid's exactly, with fewer passes; a cell dropped early says on how many images its
// metrics rest.
func TestHalvingSurvivorsExact(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{1, 10, 1000}, Magnitudes: []float64{0, 0.0005, 0.001, 0.002, 0.004}}
	in := Range{Data: dataset.Gaussian(40, 1), First: 3, Count: 24}
	out := Range{Data: dataset.Uniform(40, 2), First: 5, Count: 24}
	ctx := context.Background()

	full, err := NewTuner(m, g, MinFPR95, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	want, err := full.Tune(ctx, in, out)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewTuner(m, g, MinFPR95, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	h.Halving = &Halving{Eta: 3, Rounds: 3}
	got, err := h.Tune(ctx, in, out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Baseline != want.Baseline {
		t.Errorf("baseline %+v, full grid %+v", got.Baseline, want.Baseline)
	}
	survivors := 0
	for c, cell := range got.Cells {
		switch cell.Images {
		case 24:
			survivors++
			if cell.Result != want.Cells[c].Result || cell.InMean != want.Cells[c].InMean {
				t.Errorf("survivor T=%g ε=%g: %+v, full grid %+v", cell.Temperature, cell.Magnitude, cell.Result, want.Cells[c].Result)
			}
		case 3, 8:
		default:
			t.Errorf("cell %d rests on %d images, want 3, 8 or 24", c, cell.Images)
		}
	}
	// 15 cells → 5 after the first round → 2 after the second.
	if survivors != 2 {
		t.Errorf("%d cells scored on every image, want 2", survivors)
	}
	if got.Cells[got.Best].Images != 24 {
		t.Errorf("the chosen cell rests on %d images", got.Cells[got.Best].Images)
	}
	if got.Forward >= want.Forward || got.Forward < 2*24 {
		t.Errorf("halving ran %d forward passes, the full grid %d", got.Forward, want.Forward)
	}
	if got.Search == "" || want.Search != "" {
		t.Errorf("search described as %q (halving) and %q (full)", got.Search, want.Search)
	}
}

// The halving search is deterministic whatever the workers and micro-batch size.
func TestHalvingDeterministic(t *testing.T) {
	m := smallNet(t)
	g := Grid{Temperatures: []float64{1, 1000}, Magnitudes: []float64{0, 0.001, 0.003}}
	in := Range{Data: dataset.Gaussian(30, 4), First: 0, Count: 16}
	out := Range{Data: dataset.Uniform(30, 5), First: 0, Count: 16}
	var first *Tuning
	for _, wb := range [][2]int{{1, 1}, {2, 3}, {2, 16}} {
		tu, err := NewTuner(m, g, MinDetErr, wb[0], wb[1])
		if err != nil {
			t.Fatal(err)
		}
		tu.Halving = &DefaultHalving
		res, err := tu.Tune(context.Background(), in, out)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if !reflect.DeepEqual(res.Cells, first.Cells) || res.Best != first.Best {
			t.Errorf("workers %d batch %d: cells differ from one worker's", wb[0], wb[1])
		}
	}
}
