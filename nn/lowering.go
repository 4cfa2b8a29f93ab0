package nn

// Lowering (im2col) turns a convolution into a matrix product: one row per input channel and
// kernel tap, one column per output pixel. Plain convolutions (conv.go, in bands of output rows
// and with a fused input normalisation) and grouped, dilated or asymmetrically padded ones
// (conv_general.go, a channel range per group) share it. Along each axis the outputs whose
// input lies inside are computed once per tap (axis.valid), so no border test runs per pixel.

// axis is one spatial axis of a convolution: input size n, output size o, stride s,
// dilation d, leading pad p.
type axis struct{ n, o, s, d, p int }

// valid returns the outputs [lo, hi) whose input o·s − p + j·d for tap j lies inside.
func (a axis) valid(j int) (lo, hi int) {
	off := j*a.d - a.p // input index of output 0
	if off < 0 {
		lo = min(a.o, (-off+a.s-1)/a.s)
	}
	if a.n-1-off >= 0 {
		hi = min(a.o, (a.n-1-off)/a.s+1)
	}
	return lo, max(lo, hi)
}

// band is valid(j) within the outputs [o0, o1).
func (a axis) band(j, o0, o1 int) (lo, hi int) {
	lo, hi = a.valid(j)
	lo = min(max(lo, o0), o1)
	return lo, max(min(hi, o1), lo)
}

// lowerGeom is the geometry of a lowered convolution: a kh×kw kernel and its two axes.
type lowerGeom struct {
	kh, kw int
	y, x   axis
}

// im2col lowers output rows oy0…oy1−1 of channels c0…c0+ch−1 of images b0…b1−1 of src
// (planes y.n×x.n, channel stride ld): row (ci, i, j), column (image, oy, ox) of col (row
// length cols) holds the input pixel under tap (i, j) for output (oy, ox). With pre the pixel is
// normalised (and rectified) first with channel c0+ci's scale and shift; padding stays zero, as
// it is applied after normalisation in the network.
func (g lowerGeom) im2col(col []float32, cols int, src []float32, ld, c0, ch, b0, b1, oy0, oy1 int, pre *affine) {
	w, ow, sx := g.x.n, g.x.o, g.x.s
	hw, bhw := g.y.n*w, (oy1-oy0)*ow
	for ci := range ch {
		s, t, relu := pre.channel(c0 + ci)
		for i := range g.kh {
			ylo, yhi := g.y.band(i, oy0, oy1)
			for j := range g.kw {
				row := col[((ci*g.kh+i)*g.kw+j)*cols:]
				xlo, xhi := g.x.valid(j)
				for b := b0; b < b1; b++ {
					plane := src[(c0+ci)*ld+b*hw:]
					dst := row[(b-b0)*bhw : (b-b0+1)*bhw]
					clear(dst[:(ylo-oy0)*ow])
					clear(dst[(yhi-oy0)*ow:])
					for oy := ylo; oy < yhi; oy++ {
						d := dst[(oy-oy0)*ow : (oy-oy0+1)*ow]
						clear(d[:xlo])
						clear(d[xhi:])
						line := plane[(oy*g.y.s-g.y.p+i*g.y.d)*w:]
						ix := xlo*sx - g.x.p + j*g.x.d
						switch {
						case pre == nil && sx == 1:
							copy(d[xlo:xhi], line[ix:ix+xhi-xlo])
						case pre == nil:
							for ox := xlo; ox < xhi; ox++ {
								d[ox] = line[ix]
								ix += sx
							}
						case relu:
							for ox := xlo; ox < xhi; ox++ {
								d[ox] = max(line[ix]*s+t, 0)
								ix += sx
							}
						default:
							for ox := xlo; ox < xhi; ox++ {
								d[ox] = line[ix]*s + t
								ix += sx
							}
						}
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col without normalisation: it adds each column entry back onto
// the input pixel of dst it was taken from.
func (g lowerGeom) col2im(dst []float32, ld, c0, ch, b0, b1, oy0, oy1 int, col []float32, cols int) {
	w, ow, sx := g.x.n, g.x.o, g.x.s
	hw, bhw := g.y.n*w, (oy1-oy0)*ow
	for ci := range ch {
		for i := range g.kh {
			ylo, yhi := g.y.band(i, oy0, oy1)
			for j := range g.kw {
				row := col[((ci*g.kh+i)*g.kw+j)*cols:]
				xlo, xhi := g.x.valid(j)
				for b := b0; b < b1; b++ {
					plane := dst[(c0+ci)*ld+b*hw:]
					for oy := ylo; oy < yhi; oy++ {
						src := row[(b-b0)*bhw+(oy-oy0)*ow:]
						line := plane[(oy*g.y.s-g.y.p+i*g.y.d)*w:]
						ix := xlo*sx - g.x.p + j*g.x.d
						for ox := xlo; ox < xhi; ox++ {
							line[ix] += src[ox]
							ix += sx
						}
					}
				}
			}
		}
	}
}
