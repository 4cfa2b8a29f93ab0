package vec

import "fmt"

// Transforms of Winograd's F(2×2, 3×3) (Lavin & Gray 2016): a 4×4 input tile d becomes
// V = Bᵀ d B and a 4×4 product M becomes the 2×2 output tile Aᵀ M A, with
//
//	Bᵀ = | 1  0 -1  0 |      Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |           | 0  1 -1 -1 |
//	     | 0 -1  1  0 |
//	     | 0  1  0 -1 |
//
// Transform-domain element (i, j) is index ξ = 4i + j. Both transforms only add and subtract;
// every 2-D transform is the 1-D one down the columns, then along the rows of the result. The
// input's column pass (Winograd2Cols) runs on whole padded rows, which tiles next to each other
// share; its row pass (Winograd2Rows) reads the rows split into even and odd columns, so that
// the four values a tile needs are at the same index in four contiguous runs.

// Winograd2Cols writes the column pass of the input transform of a row of tiles whose four
// padded input rows are r0…r3 (each n = len(r0) long): dst[k·n + i] is row k of Bᵀ·d for
// column i, r0−r2, r1+r2, r2−r1, r1−r3. It panics if a slice is too short.
func Winograd2Cols(dst, r0, r1, r2, r3 []float32) {
	n := len(r0)
	if len(r1) < n || len(r2) < n || len(r3) < n || len(dst) < 4*n {
		panic(fmt.Sprintf("vec: Winograd2Cols: rows %d %d %d %d, dst %d", n, len(r1), len(r2), len(r3), len(dst)))
	}
	if n == 0 {
		return
	}
	winograd2Cols(dst, r0, r1[:n], r2[:n], r3[:n])
}

// Winograd2Rows finishes the input transform of tiles tx … tx+n−1 from the column pass src that
// Winograd2Cols wrote for rows split into k even columns then k odd ones (row length 2k): for
// row a of Bᵀ·d, E = src[2ak:], O = src[2ak+k:], and tile t reads E[t], O[t], E[t+1], O[t+1]
// (padded columns 2t … 2t+3). Element ξ = 4a + b of tile tx+q goes to dst[ξ·ds + q]:
// E[t]−E[t+1], O[t]+E[t+1], E[t+1]−O[t], O[t]−O[t+1]. It panics if a slice is too short.
func Winograd2Rows(dst []float32, ds int, src []float32, k, tx, n int) {
	if n <= 0 {
		return
	}
	if tx < 0 || tx+n+1 > k || len(src) < 8*k || ds < n || len(dst) < 15*ds+n {
		panic(fmt.Sprintf("vec: Winograd2Rows: k=%d tx=%d n=%d len(src)=%d ds=%d len(dst)=%d", k, tx, n, len(src), ds, len(dst)))
	}
	winograd2Rows(dst, ds, src, k, tx, n)
}

// Winograd2Out inverse-transforms tiles tx … tx+n−1 of a row of tiles: element ξ of tile tx+q is
// src[ξ·ms + q], and output pixel (a, b) of tile t goes to dst[a·w + 2t + b] for a < rows and
// 2t + b < w (an odd plane's last tile keeps only what lies inside), added to what is there when
// acc. Row a of Aᵀ·M is (m0+m1)+m2 or (m1−m2)−m3 of its column, and the row pass the same. It
// panics if a slice is too short.
func Winograd2Out(dst []float32, w, rows int, src []float32, ms, tx, n int, acc bool) {
	if n <= 0 || rows <= 0 {
		return
	}
	if rows > 2 || tx < 0 || 2*tx+2*n > w+1 || ms < n || len(src) < 15*ms+n || len(dst) < (rows-1)*w+min(w, 2*(tx+n)) {
		panic(fmt.Sprintf("vec: Winograd2Out: w=%d rows=%d tx=%d n=%d ms=%d len(src)=%d len(dst)=%d", w, rows, tx, n, ms, len(src), len(dst)))
	}
	winograd2Out(dst, w, rows, src, ms, tx, n, acc)
}

func winograd2ColsGo(dst, r0, r1, r2, r3 []float32) {
	n := len(r0)
	d0, d1, d2, d3 := dst[:n], dst[n:2*n], dst[2*n:3*n], dst[3*n:4*n]
	r1, r2, r3 = r1[:n], r2[:n], r3[:n]
	for i, a := range r0 {
		b, c, d := r1[i], r2[i], r3[i]
		d0[i] = a - c
		d1[i] = b + c
		d2[i] = c - b
		d3[i] = b - d
	}
}

func winograd2RowsGo(dst []float32, ds int, src []float32, k, tx, n int) {
	for a := range 4 {
		e, o := src[2*a*k+tx:2*a*k+tx+n+1], src[2*a*k+k+tx:2*a*k+k+tx+n+1]
		d0, d1, d2, d3 := dst[4*a*ds:4*a*ds+n], dst[(4*a+1)*ds:(4*a+1)*ds+n], dst[(4*a+2)*ds:(4*a+2)*ds+n], dst[(4*a+3)*ds:(4*a+3)*ds+n]
		for q := range n {
			e0, e1, o0, o1 := e[q], e[q+1], o[q], o[q+1]
			d0[q] = e0 - e1
			d1[q] = o0 + e1
			d2[q] = e1 - o0
			d3[q] = o0 - o1
		}
	}
}

// out2 is the 1-D output transform Aᵀ·m.
func out2(m0, m1, m2, m3 float32) (float32, float32) {
	return (m0 + m1) + m2, (m1 - m2) - m3
}

func winograd2OutGo(dst []float32, w, rows int, src []float32, ms, tx, n int, acc bool) {
	for q := range n {
		var m [16]float32
		for xi := range m {
			m[xi] = src[xi*ms+q]
		}
		var o [2][4]float32
		for j := range 4 {
			o[0][j], o[1][j] = out2(m[j], m[4+j], m[8+j], m[12+j])
		}
		x := 2 * (tx + q)
		for a := range rows {
			y0, y1 := out2(o[a][0], o[a][1], o[a][2], o[a][3])
			row := dst[a*w:]
			if acc {
				row[x] += y0
			} else {
				row[x] = y0
			}
			if x+1 < w {
				if acc {
					row[x+1] += y1
				} else {
					row[x+1] = y1
				}
			}
		}
	}
}
