package gemm

import "fmt"

// MulIndirect computes C = A·B (acc false) or C += A·B (acc true), where row k of B is read in
// place as b[off[k] : off[k]+n]. A convolution with stride 1 reads its input this way: with the
// image zero-padded, kernel tap (ci, i, j) is the padded plane of channel ci shifted by i rows and
// j columns, so no lowered (im2col) copy and no packing of B is needed.
//
// C is M×n with row stride ldc. b must hold at least off[k] + RoundUp(n) values for every k: the
// kernel reads whole tiles of NR columns, and the values past n do not affect C.
// Each element of C is summed over k in order, so, as with Mul, it depends only on its row of
// A and its column of B. Panics on programmer errors (short slices, len(off) != K).
func (a *Packed) MulIndirect(c []float32, ldc int, b []float32, off []int, n int, acc bool) {
	a.mulIndirect(kernDefault, c, ldc, b, off, n, acc)
}

// mulIndirect is MulIndirect with the kernel kern.
func (a *Packed) mulIndirect(kern kernelID, c []float32, ldc int, b []float32, off []int, n int, acc bool) {
	m, k := a.M, a.K
	if len(off) != k || n < 0 || (n > 0 && ldc < n) || (m > 0 && n > 0 && len(c) < (m-1)*ldc+n) {
		panic(fmt.Sprintf("gemm: MulIndirect: len(off)=%d K=%d n=%d ldc=%d len(c)=%d", len(off), k, n, ldc, len(c)))
	}
	if m == 0 || n == 0 {
		return
	}
	width := RoundUp(n)
	for _, o := range off {
		if o < 0 || o+width > len(b) {
			panic(fmt.Sprintf("gemm: MulIndirect: offset %d + %d columns outside b of %d", o, width, len(b)))
		}
	}
	var tile [mr * nr]float32
	// Column tiles outside, row panels inside: the K rows of one column tile (scattered over a
	// padded image that may not fit in L2) are read from memory once and then from cache by every
	// row panel, and A, packed and smaller, is what cycles through L2.
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		for ir := 0; ir < m; ir += mr {
			ap := a.data[(ir/mr)*k*mr : (ir/mr+1)*k*mr]
			h := min(mr, m-ir)
			kernelIndirect(kern, k, ap, b, off, j0, tile[:])
			for r := range h {
				dst := c[(ir+r)*ldc+j0 : (ir+r)*ldc+j0+w]
				src := tile[r*nr : r*nr+w]
				if acc {
					for j := range dst {
						dst[j] += src[j]
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}

// RoundUp returns n rounded up to a whole number of kernel tiles (NR columns).
func RoundUp(n int) int { return (n + nr - 1) / nr * nr }

// kernelIndirectGo computes the mr×nr tile t[i][j] = Σ_p a[p*mr+i]·b[off[p]+j0+j] in p order.
func kernelIndirectGo(k int, a, b []float32, off []int, j0 int, t []float32) {
	var acc [mr][nr]float32
	for p := range k {
		row := b[off[p]+j0 : off[p]+j0+nr : off[p]+j0+nr]
		ap := a[p*mr : p*mr+mr : p*mr+mr]
		for i := range mr {
			ai := ap[i]
			for j := range nr {
				acc[i][j] += ai * row[j]
			}
		}
	}
	for i := range mr {
		copy(t[i*nr:(i+1)*nr], acc[i][:])
	}
}
