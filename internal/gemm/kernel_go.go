package gemm

// The portable micro-kernel and B packing. The assembly kernels must match packGo bit for bit
// and kernelGo up to rounding (they fuse each multiply-add).

// packGo packs kb rows of w ≤ nr columns of src (row stride ldb) into dst (kb×nr, zero-padded),
// applying the row operation. Its arithmetic (a rounded multiply, then a rounded add, then
// x<0 → 0) matches the assembly kernelPack lane for lane, so that edge panels packed here and
// full panels packed there hold bit-identical values.
func packGo(dst, src []float32, ldb, kb, w int, scale, shift []float32, relu bool) {
	for p := 0; p < kb; p++ {
		row := src[p*ldb : p*ldb+w]
		out := dst[p*nr : p*nr+nr]
		copy(out, row)
		clear(out[w:])
		if scale == nil && shift == nil && !relu {
			continue
		}
		out = out[:w]
		if scale != nil {
			s := scale[p]
			for j, v := range out {
				out[j] = v * s
			}
		}
		if shift != nil {
			t := shift[p]
			for j, v := range out {
				out[j] = v + t
			}
		}
		if relu {
			for j, v := range out {
				if v < 0 {
					out[j] = 0
				}
			}
		}
	}
}

// kernelPackGo packs the full micro-panel src (see packGo) into bp and then runs kernelGo.
func kernelPackGo(k int, a, src []float32, ldb int, bp, c []float32, ldc int, beta bool, scale, shift []float32, relu bool) {
	packGo(bp, src, ldb, k, nr, scale, shift, relu)
	kernelGo(k, a, bp, c, ldc, beta)
}

// kernelGo computes the mr×nr tile t[i][j] = Σ_p a[p*mr+i]·b[p*nr+j], summed in p order, and
// stores c = t (beta false) or c += t (beta true) with row stride ldc.
//
//go:noinline
func kernelGo(k int, a, b, c []float32, ldc int, beta bool) {
	a = a[:k*mr]
	b = b[:k*nr]
	c = c[:(mr-1)*ldc+nr]
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			var t00, t01, t02, t03, t10, t11, t12, t13 float32
			for p := 0; p < k; p++ {
				ap := a[p*mr+i : p*mr+i+2 : p*mr+i+2]
				bp := b[p*nr+j : p*nr+j+4 : p*nr+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				t00 += a0 * b0
				t01 += a0 * b1
				t02 += a0 * b2
				t03 += a0 * b3
				t10 += a1 * b0
				t11 += a1 * b1
				t12 += a1 * b2
				t13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			if beta {
				r0[0], r0[1], r0[2], r0[3] = r0[0]+t00, r0[1]+t01, r0[2]+t02, r0[3]+t03
				r1[0], r1[1], r1[2], r1[3] = r1[0]+t10, r1[1]+t11, r1[2]+t12, r1[3]+t13
			} else {
				r0[0], r0[1], r0[2], r0[3] = t00, t01, t02, t03
				r1[0], r1[1], r1[2], r1[3] = t10, t11, t12, t13
			}
		}
	}
}
