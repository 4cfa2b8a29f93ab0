package dataset

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// rng returns the generator for item i of a seeded stream. Every (tag, seed, i) gets its own
// ChaCha8 key, so item i depends on nothing else and any subset can be regenerated alone.
func rng(tag string, seed uint64, i int) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(i))
	copy(key[16:], tag)
	return rand.NewChaCha8(key)
}

// unit returns a float64 in [0, 1) with 53 random bits. It is written out (not rand.Float64) so
// the streams stay fixed whatever math/rand/v2 does with its helpers.
func unit(r *rand.ChaCha8) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Noise is a generated set of images with independent pixels: see Uniform and Gaussian.
type Noise struct {
	name  string
	n     int
	seed  uint64
	gauss bool
}

// Uniform returns n images whose values are independent and uniform in [0, 1). Image i is a
// function of seed and i only.
func Uniform(n int, seed uint64) *Noise { return &Noise{name: "Uniform", n: max(n, 0), seed: seed} }

// Gaussian returns n images whose values are independent draws from N(0.5, 1) clamped to [0, 1]
// (about 31% of the values are exactly 0 and as many exactly 1). Image i is a function of seed
// and i only.
func Gaussian(n int, seed uint64) *Noise {
	return &Noise{name: "Gaussian", n: max(n, 0), seed: seed, gauss: true}
}

// Name returns "Uniform" or "Gaussian".
func (s *Noise) Name() string { return s.name }

// Len returns the number of images.
func (s *Noise) Len() int { return s.n }

// Classes returns nil: noise has no classes.
func (s *Noise) Classes() []string { return nil }

// Image writes image i and returns label -1.
func (s *Noise) Image(i int, dst []float32) (int, error) {
	if err := checkArgs(s.name, s.n, i, dst); err != nil {
		return 0, err
	}
	if !s.gauss {
		r := rng("odin/noise/uniform", s.seed, i)
		for k := range Pixels {
			// 24 random bits: every float32 k/2²⁴ is exact, and the result is never 1.
			dst[k] = float32(r.Uint64()>>40) / (1 << 24)
		}
		return -1, nil
	}
	var raw [Pixels]float64
	gaussian(s.seed, i, raw[:])
	for k, v := range raw {
		dst[k] = float32(min(max(v, 0), 1))
	}
	return -1, nil
}

// gaussian fills dst with N(0.5, 1) draws for image i by the Box–Muller transform, before
// clamping.
func gaussian(seed uint64, i int, dst []float64) {
	r := rng("odin/noise/gauss", seed, i)
	for k := 0; k < len(dst); k += 2 {
		u1 := 1 - unit(r) // (0, 1], so the logarithm is finite
		u2 := unit(r)
		rad := math.Sqrt(-2 * math.Log(u1))
		s, c := math.Sincos(2 * math.Pi * u2)
		dst[k] = 0.5 + rad*c
		if k+1 < len(dst) {
			dst[k+1] = 0.5 + rad*s
		}
	}
}
