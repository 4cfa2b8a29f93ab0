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
// assembly and Go versions perform the same float32 operations in the same order, and every
// multiplication is by a power of two and so exact, whether fused with an addition or not: both
// give the same bits.

// WinogradPhases4 writes rows y0 … y0+rows−1 of an image plane (src, row y at src[y·w:], w a
// multiple of 4) into the phase planes that WinogradIn4 reads. The zero-padded copy of the plane
// has pixel (y, x) at (Y, X) = (y+1, x+1); its element (Y, X) goes to plane (Y mod 4)·6 + j at
// (Y/4)·tw + v for X = 4v + j, j = 0…5 and v < tw = w/4, so that planes 4 and 5 repeat planes 0
// and 1 one column of tiles to the left. Planes are ps apart (ps ≥ (h/4+1)·tw for an h-row
// image). Each pixel becomes x·s + t, then max(·, 0) when relu, rounded as ScaleShift rounds;
// the padding columns become zeros. The caller zeroes the padding rows Y = 0 and Y = h+1.
// It panics if p or src is too short.
func WinogradPhases4(p []float32, ps int, src []float32, w, y0, rows int, s, t float32, relu bool) {
	if rows <= 0 {
		return
	}
	tw := w / 4
	if w <= 0 || w%4 != 0 || y0 < 0 || ps < tw || len(src) < rows*w {
		panic(fmt.Sprintf("vec: WinogradPhases4: w=%d y0=%d rows=%d ps=%d len(src)=%d", w, y0, rows, ps, len(src)))
	}
	base := func(y int) int { return (y+1)%4*6*ps + (y+1)/4*tw }
	last := 0
	for y := max(y0, y0+rows-4); y < y0+rows; y++ {
		last = max(last, base(y)+5*ps+tw)
	}
	if last > len(p) {
		panic(fmt.Sprintf("vec: WinogradPhases4: rows %d…%d need %d phase values, have %d", y0, y0+rows-1, last, len(p)))
	}
	if hasWinograd && (w%16 == 0 || w == 8) {
		winogradPhasesAsm(&p[base(y0)], ps, tw, (y0+1)%4, &src[0], w, rows, s, t, relu)
		return
	}
	winogradPhases4Go(p, ps, src, w, y0, rows, s, t, relu)
}

// WinogradIn4 transforms groups·4 input tiles, numbered t from 0, from the phase planes that
// WinogradPhases4 writes (ps apart, phase rows pw apart): element (i, j) of tile t is
// src[((i mod 4)·6 + j)·ps + (i/4)·pw + t]. Element ξ of its transform goes to dst[ξ·ds + t].
// It panics if a slice is too short.
func WinogradIn4(dst []float32, ds int, src []float32, ps, pw, groups int) {
	if groups <= 0 {
		return
	}
	n := 4 * groups
	if ps < 0 || pw < 0 || max(23*ps, 11*ps+pw)+n > len(src) {
		panic(fmt.Sprintf("vec: WinogradIn4: ps=%d pw=%d, %d tiles outside src of %d", ps, pw, n, len(src)))
	}
	if ds < n || 35*ds+n > len(dst) {
		panic(fmt.Sprintf("vec: WinogradIn4: ds=%d, len(dst)=%d for %d tiles", ds, len(dst), n))
	}
	if hasWinograd {
		winogradInAsm(dst, ds, src, ps, pw, groups)
		return
	}
	winogradIn4Go(dst, ds, src, ps, pw, groups)
}

// WinogradOut4 inverse-transforms units·groups·4 tiles: element ξ of tile k of group g of unit
// r is src[ξ·ms + (r·groups + g)·4 + k], and row a of its 4×4 output goes to
// dst[r·unit + a·ld + 16g + (k mod 2)·4 + (k/2)·tile2 : …+4], added to what is there when acc.
// With tile2 = 8 a group's tiles lie side by side; with tile2 = 4·ld a group is two tiles wide
// and two high. It panics if a slice is too short.
func WinogradOut4(dst []float32, ld int, src []float32, ms int, groups, units, unit, tile2 int, acc bool) {
	if groups <= 0 || units <= 0 {
		return
	}
	n := 4 * groups * units
	if ms < n || 35*ms+n > len(src) || ld < 0 || unit < 0 || tile2 < 8 ||
		(units-1)*unit+3*ld+16*(groups-1)+tile2+8 > len(dst) {
		panic(fmt.Sprintf("vec: WinogradOut4: ms=%d len(src)=%d ld=%d unit=%d tile2=%d len(dst)=%d for %d units of %d groups",
			ms, len(src), ld, unit, tile2, len(dst), units, groups))
	}
	if hasWinograd {
		winogradOutAsm(dst, ld, src, ms, groups, units, unit, tile2, acc)
		return
	}
	for r := range units {
		winogradOut4Go(dst[r*unit:], ld, src[r*4*groups:], ms, groups, tile2, acc)
	}
}

func winogradPhases4Go(p []float32, ps int, src []float32, w, y0, rows int, s, t float32, relu bool) {
	tw := w / 4
	op := func(x int, line []float32) float32 {
		if x < 0 || x >= w {
			return 0
		}
		v := float32(line[x]*s) + t
		if relu && !(v > 0) {
			v = 0
		}
		return v
	}
	for r := range rows {
		y := y0 + r + 1
		b := y%4*6*ps + y/4*tw
		line := src[r*w : (r+1)*w]
		for v := range tw {
			for j := range 6 {
				p[b+j*ps+v] = op(4*v+j-1, line)
			}
		}
	}
}

// in6 is the 1-D input transform Bᵀ·d, in the order of operations of the assembly.
func in6(d *[6]float32) (o [6]float32) {
	c := d[4] - d[2]
	e := d[3] - d[1]
	a := d[4] - 4*d[2]
	b := d[3] - 4*d[1]
	o[0] = 4*(d[0]-d[2]) + c
	o[1] = a + b
	o[2] = a - b
	o[3] = c + 2*e
	o[4] = c - 2*e
	o[5] = (d[5] - d[3]) - 4*e
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

func winogradIn4Go(dst []float32, ds int, src []float32, ps, pw, groups int) {
	for t := range 4 * groups {
		var tmp [6][6]float32
		for j := range 6 {
			var d [6]float32
			for i := range 6 {
				d[i] = src[(i%4*6+j)*ps+i/4*pw+t]
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

func winogradOut4Go(dst []float32, ld int, src []float32, ms int, groups, tile2 int, acc bool) {
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
		g, k := t/4, t%4
		at := 16*g + k%2*4 + k/2*tile2
		for a := range 4 {
			o := out6(&tmp[a])
			row := dst[a*ld+at : a*ld+at+4]
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
