package vec

import "fmt"

// Transforms of Winograd's minimal filtering algorithm F(4×4, 3×3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016), four tiles at a time: a 6×6 input
// tile d becomes V = Bᵀ d B and a 6×6 product M becomes the 4×4 output tile Aᵀ M A, with
//
//	Bᵀ = | 4  0 -5  0  1  0 |      Aᵀ = | 1  1  1  1  1  0 |
//	     | 0 -4 -4  1  1  0 |           | 0  1 -1  2 -2  0 |
//	     | 0  4 -4 -1  1  0 |           | 0  1  1  4  4  0 |
//	     | 0 -2 -1  2  1  0 |           | 0  1 -1  8 -8  1 |
//	     | 0  2 -1 -2  1  0 |
//	     | 0  4  0 -5  0  1 |
//
// Transform-domain element (i, j) is index ξ = 6i + j. Each 2-D transform is a pass of the 1-D
// transform down the columns of the tile followed by one along the rows of the result. The
// assembly and Go versions perform the same float32 operations in the same order; every
// multiplication but the ones by 5 is by a power of two and so exact, and those by 5 are
// rounded on their own (never fused), so both give the same bits.

// SplitPhases4 writes d_k[v] = op(src[4v+k]) for k = 0…3 and v < len(src)/4, where
// op(x) = x·s + t followed by max(·, 0) when relu, rounded as ScaleShift rounds. It splits an
// image row into its four column phases for WinogradIn4. len(src) must be a multiple of 16 and
// each d_k must hold len(src)/4 values.
func SplitPhases4(d0, d1, d2, d3, src []float32, s, t float32, relu bool) {
	n := len(src) / 4
	if len(src)%16 != 0 || len(d0) < n || len(d1) < n || len(d2) < n || len(d3) < n {
		panic(fmt.Sprintf("vec: SplitPhases4: len(src)=%d, destinations %d %d %d %d", len(src), len(d0), len(d1), len(d2), len(d3)))
	}
	if n == 0 {
		return
	}
	if hasWinograd {
		splitPhases4Asm(&d0[0], &d1[0], &d2[0], &d3[0], &src[0], len(src), s, t, relu)
		return
	}
	splitPhases4Go(d0, d1, d2, d3, src, s, t, relu)
}

// WinogradIn4 transforms groups·4 input tiles lying side by side. Element (i, j) of tile g·4+k
// is src[off[6i+j] + 4g + k]; element ξ of its transform is written to dst[ξ·ds + 4g + k].
// It panics if an offset is negative or a slice is too short.
func WinogradIn4(dst []float32, ds int, src []float32, off *[36]int, groups int) {
	if groups <= 0 {
		return
	}
	w := 4 * groups
	for _, o := range off {
		if o < 0 || o+w > len(src) {
			panic(fmt.Sprintf("vec: WinogradIn4: offset %d + %d outside src of %d", o, w, len(src)))
		}
	}
	if ds < w || 35*ds+w > len(dst) {
		panic(fmt.Sprintf("vec: WinogradIn4: ds=%d, len(dst)=%d for %d groups", ds, len(dst), groups))
	}
	if hasWinograd {
		winogradIn4Asm(&dst[0], ds, &src[0], &off[0], groups)
		return
	}
	winogradIn4Go(dst, ds, src, off, groups)
}

// WinogradOut4 inverse-transforms groups·4 tiles lying side by side: element ξ of tile g·4+k is
// src[ξ·ms + 4g + k], and row a of its 4×4 output goes to dst[a·ld + 16g + 4k : …+4], added
// to what is there when acc. It panics if a slice is too short.
func WinogradOut4(dst []float32, ld int, src []float32, ms int, groups int, acc bool) {
	if groups <= 0 {
		return
	}
	w := 4 * groups
	if ms < w || 35*ms+w > len(src) || ld < 4*w || 3*ld+4*w > len(dst) {
		panic(fmt.Sprintf("vec: WinogradOut4: ms=%d len(src)=%d ld=%d len(dst)=%d for %d groups", ms, len(src), ld, len(dst), groups))
	}
	if hasWinograd {
		winogradOut4Asm(&dst[0], ld, &src[0], ms, groups, acc)
		return
	}
	winogradOut4Go(dst, ld, src, ms, groups, acc)
}

func splitPhases4Go(d0, d1, d2, d3, src []float32, s, t float32, relu bool) {
	op := func(x float32) float32 {
		y := float32(x*s) + t
		if relu && !(y > 0) {
			y = 0
		}
		return y
	}
	for v := range len(src) / 4 {
		d0[v] = op(src[4*v])
		d1[v] = op(src[4*v+1])
		d2[v] = op(src[4*v+2])
		d3[v] = op(src[4*v+3])
	}
}

// in6 is the 1-D input transform Bᵀ·d, in the order of operations of the assembly.
func in6(d *[6]float32) (o [6]float32) {
	a := d[4] - 4*d[2]
	b := d[3] - 4*d[1]
	o[1] = a + b
	o[2] = a - b
	c := d[4] - d[2]
	e := (d[3] - d[1]) * 2
	o[3] = c + e
	o[4] = c - e
	o[0] = (4*d[0] + d[4]) - float32(5*d[2])
	o[5] = (4*d[1] + d[5]) - float32(5*d[3])
	return o
}

// out6 is the 1-D output transform Aᵀ·m, in the order of operations of the assembly.
func out6(m *[6]float32) (o [4]float32) {
	s1 := m[1] + m[2]
	d1 := m[1] - m[2]
	s2 := m[3] + m[4]
	d2 := m[3] - m[4]
	o[0] = (m[0] + s1) + s2
	o[1] = d1 + 2*d2
	o[2] = s1 + 4*s2
	o[3] = (d1 + 8*d2) + m[5]
	return o
}

func winogradIn4Go(dst []float32, ds int, src []float32, off *[36]int, groups int) {
	for t := range 4 * groups {
		var tmp [6][6]float32
		for j := range 6 {
			var d [6]float32
			for i := range 6 {
				d[i] = src[off[6*i+j]+t]
			}
			o := in6(&d)
			for i := range 6 {
				tmp[i][j] = o[i]
			}
		}
		for i := range 6 {
			o := in6(&tmp[i])
			for j := range 6 {
				dst[(6*i+j)*ds+t] = o[j]
			}
		}
	}
}

func winogradOut4Go(dst []float32, ld int, src []float32, ms int, groups int, acc bool) {
	for t := range 4 * groups {
		var tmp [4][6]float32
		for j := range 6 {
			var m [6]float32
			for i := range 6 {
				m[i] = src[(6*i+j)*ms+t]
			}
			o := out6(&m)
			for a := range 4 {
				tmp[a][j] = o[a]
			}
		}
		for a := range 4 {
			o := out6(&tmp[a])
			row := dst[a*ld+4*t : a*ld+4*t+4]
			if acc {
				for b := range 4 {
					row[b] += o[b]
				}
			} else {
				copy(row, o[:])
			}
		}
	}
}
