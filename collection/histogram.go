package collection

import (
	"cmp"
	"errors"
	"math"
	"slices"

	"github.com/odin-ood/odin/metrics"
)

// Histogram is an exact, mergeable summary of labelled scores: for every distinct score value
// (distinct float64 bit pattern), how many in-distribution and how many OOD images have it. It
// loses nothing package metrics needs, since the five metrics depend only on the multiset of
// (score, label) pairs, so the metrics of merged histograms equal those of the concatenated
// scores exactly, in any merge order. Its size is the number of distinct scores, at most the
// number of images. The fields are exported for serialisation (a Beam accumulator).
type Histogram struct {
	Scores  []float64 // ascending; equal values (by bits) are merged once Normalize has run
	In, Out []int64   // counts per entry of Scores
}

// Add counts one score.
func (h *Histogram) Add(score float64, in bool) {
	h.Scores = append(h.Scores, score)
	if in {
		h.In, h.Out = append(h.In, 1), append(h.Out, 0)
	} else {
		h.In, h.Out = append(h.In, 0), append(h.Out, 1)
	}
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.Scores = append(h.Scores, o.Scores...)
	h.In = append(h.In, o.In...)
	h.Out = append(h.Out, o.Out...)
	h.Normalize()
}

// Normalize sorts the entries and merges those with the same bits.
func (h *Histogram) Normalize() {
	idx := make([]int, len(h.Scores))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) uint64 { return math.Float64bits(h.Scores[i]) }
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(h.Scores[a], h.Scores[b]); c != 0 {
			return c
		}
		return cmp.Compare(key(a), key(b)) // -0 and +0, NaNs of other payloads
	})
	var s []float64
	var in, out []int64
	for _, i := range idx {
		if n := len(s); n > 0 && math.Float64bits(s[n-1]) == key(i) {
			in[n-1] += h.In[i]
			out[n-1] += h.Out[i]
			continue
		}
		s, in, out = append(s, h.Scores[i]), append(in, h.In[i]), append(out, h.Out[i])
	}
	h.Scores, h.In, h.Out = s, in, out
}

// Counts returns the numbers of in-distribution and OOD scores.
func (h *Histogram) Counts() (in, out int64) {
	for i := range h.Scores {
		in += h.In[i]
		out += h.Out[i]
	}
	return in, out
}

// Metrics computes package metrics' five metrics of the counted scores.
func (h *Histogram) Metrics(opt metrics.Options) (metrics.Result, error) {
	h.Normalize()
	nIn, nOut := h.Counts()
	if nIn+nOut > math.MaxInt32 {
		return metrics.Result{}, errors.New("histogram: more than 2³¹ scores")
	}
	in := make([]float64, 0, nIn)
	out := make([]float64, 0, nOut)
	for i, s := range h.Scores {
		for range h.In[i] {
			in = append(in, s)
		}
		for range h.Out[i] {
			out = append(out, s)
		}
	}
	return metrics.Compute(in, out, opt)
}
