package metrics

import (
	"math"
	"slices"
)

// radixMin is the length from which sortedCopy uses a radix sort; below it, a comparison sort is
// faster than clearing the digit histograms.
const radixMin = 1 << 12

// sortedCopy returns the NaN-free values v (negated if neg) sorted in ascending order, with −0
// stored as +0. It leaves v unchanged.
//
// Sorting dominates Compute, and comparison sorts of float64 pay for NaN handling on every
// comparison, so large inputs use an LSD radix sort on order-preserving integer keys: Compute on
// 1,000,000 + 1,000,000 scores went from about 670 ms to 160 ms on the project's 2-core machine.
func sortedCopy(v []float64, neg bool) []float64 {
	sign := 1.0
	if neg {
		sign = -1
	}
	if len(v) < radixMin {
		c := make([]float64, len(v))
		for i, x := range v {
			c[i] = sign*x + 0 // + 0 turns −0 into +0
		}
		slices.Sort(c)
		return c
	}
	keys := make([]uint64, len(v))
	for i, x := range v {
		keys[i] = floatKey(sign*x + 0)
	}
	keys = radixSort(keys)
	c := make([]float64, len(v))
	for i, k := range keys {
		c[i] = keyFloat(k)
	}
	return c
}

// floatKey maps a non-NaN float64 to a uint64 with the same order: negative numbers have all bits
// flipped, the others only the sign bit.
func floatKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// radixSort sorts keys with six stable passes over 11-bit digits, skipping digits that all keys
// share, and returns the sorted slice (keys or a buffer of the same length).
func radixSort(keys []uint64) []uint64 {
	const bits, digits = 11, 6
	const size = 1 << bits
	var count [digits][size]int
	for _, k := range keys {
		for d := range digits {
			count[d][k>>(d*bits)&(size-1)]++
		}
	}
	buf := make([]uint64, len(keys))
	for d := range digits {
		c := &count[d]
		if c[keys[0]>>(d*bits)&(size-1)] == len(keys) {
			continue // every key has this digit
		}
		sum := 0
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		shift := uint(d * bits)
		for _, k := range keys {
			i := k >> shift & (size - 1)
			buf[c[i]] = k
			c[i]++
		}
		keys, buf = buf, keys
	}
	return keys
}
