package vec

import "fmt"

// Pool2 writes the 2×2 means of an h×w plane (h and w even) to dst, (h/2)×(w/2):
// dst[y][x] = ((a + c) + (b + d))·¼ for the pixels a b over c d. It panics if a slice is short.
func Pool2(dst, src []float32, w, h int) {
	ow, oh := w/2, h/2
	if w%2 != 0 || h%2 != 0 || len(src) < w*h || len(dst) < ow*oh {
		panic(fmt.Sprintf("vec: Pool2: %d×%d plane, len(src)=%d len(dst)=%d", h, w, len(src), len(dst)))
	}
	if oh == 0 || ow == 0 {
		return
	}
	if hasAVX2 && w%16 == 0 {
		pool2AVX(&dst[0], &src[0], w, oh)
		return
	}
	pool2Go(dst, src, w, h)
}

func pool2Go(dst, src []float32, w, h int) {
	ow := w / 2
	for oy := range h / 2 {
		r0, r1, d := src[2*oy*w:2*oy*w+w], src[(2*oy+1)*w:(2*oy+1)*w+w], dst[oy*ow:oy*ow+ow]
		for x := range d {
			d[x] = ((r0[2*x] + r1[2*x]) + (r0[2*x+1] + r1[2*x+1])) * 0.25
		}
	}
}

// Unpool2 is Pool2's gradient: it adds (acc) or writes g[y][x]·¼ to the four pixels of the h×w
// plane dst that output (y, x) averages. It panics if a slice is short.
func Unpool2(dst, g []float32, w, h int, acc bool) {
	ow, oh := w/2, h/2
	if w%2 != 0 || h%2 != 0 || len(dst) < w*h || len(g) < ow*oh {
		panic(fmt.Sprintf("vec: Unpool2: %d×%d plane, len(dst)=%d len(g)=%d", h, w, len(dst), len(g)))
	}
	if oh == 0 || ow == 0 {
		return
	}
	if hasAVX2 && w%16 == 0 {
		unpool2AVX(&dst[0], &g[0], w, oh, acc)
		return
	}
	unpool2Go(dst, g, w, h, acc)
}

func unpool2Go(dst, g []float32, w, h int, acc bool) {
	ow := w / 2
	for oy := range h / 2 {
		r0, r1, gr := dst[2*oy*w:2*oy*w+w], dst[(2*oy+1)*w:(2*oy+1)*w+w], g[oy*ow:oy*ow+ow]
		for x, v := range gr {
			v *= 0.25
			if acc {
				r0[2*x] += v
				r0[2*x+1] += v
				r1[2*x] += v
				r1[2*x+1] += v
				continue
			}
			r0[2*x], r0[2*x+1], r1[2*x], r1[2*x+1] = v, v, v, v
		}
	}
}
