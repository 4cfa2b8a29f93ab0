package nn

import "github.com/odin-ood/odin/internal/vec"

// Lowering (im2col) turns a convolution into a matrix product: one row per input channel and
// kernel tap, one column per output pixel. Plain convolutions (conv.go, in bands of output rows
// and with a fused input normalisation) and grouped, dilated or asymmetrically padded ones
// (conv_general.go, a channel range per group) share it. Along each axis the outputs whose
// input lies inside are computed once per tap (axis.valid), so no border test runs per pixel.
// Horizontal stride 2 without normalisation (ResNet stems, stride-2 3×3 convolutions and
// projections) moves whole bands of rows through vec.Gather2Rows and vec.AddScatter2Rows, with
// the bits of the element-by-element loops.

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
					if pre == nil && sx == 2 && xhi > xlo {
						g.gather2(dst, plane, i, j, oy0, ylo, yhi, xlo, xhi)
						continue
					}
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
					if sx == 2 {
						g.scatter2(plane, row[(b-b0)*bhw:], i, j, oy0, ylo, yhi, xlo, xhi)
						continue
					}
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

// gather2 is im2col's loop over output rows ylo…yhi−1 of tap (i, j) of one image's plane into
// dst (the tap's rows from oy0, zero outside) for a horizontal stride of 2 without
// normalisation: the margins xlo and xhi, then every row in one vec.Gather2Rows, whose rows are
// 7 to 112 pixels, too short for a call each.
func (g lowerGeom) gather2(dst, plane []float32, i, j, oy0, ylo, yhi, xlo, xhi int) {
	ow := g.x.o
	if xlo > 0 || xhi < ow {
		for oy := ylo; oy < yhi; oy++ {
			d := dst[(oy-oy0)*ow : (oy-oy0+1)*ow]
			clear(d[:xlo])
			clear(d[xhi:])
		}
	}
	if yhi <= ylo {
		return
	}
	iy, ix := ylo*g.y.s-g.y.p+i*g.y.d, xlo*2-g.x.p+j*g.x.d
	vec.Gather2Rows(dst[(ylo-oy0)*ow+xlo:], ow, plane[iy*g.x.n+ix:], g.y.s*g.x.n, xhi-xlo, yhi-ylo)
}

// scatter2 is col2im's loop for a horizontal stride of 2: tap (i, j)'s rows ylo…yhi−1 of one
// image in col (from row oy0) added onto its plane with one vec.AddScatter2Rows, in the order
// and with the additions of the element-by-element loop.
func (g lowerGeom) scatter2(plane, col []float32, i, j, oy0, ylo, yhi, xlo, xhi int) {
	if yhi <= ylo || xhi <= xlo {
		return
	}
	ow := g.x.o
	iy, ix := ylo*g.y.s-g.y.p+i*g.y.d, xlo*2-g.x.p+j*g.x.d
	vec.AddScatter2Rows(plane[iy*g.x.n+ix:], g.y.s*g.x.n, col[(ylo-oy0)*ow+xlo:], ow, xhi-xlo, yhi-ylo)
}
