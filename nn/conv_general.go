package nn

import "github.com/odin-ood/odin/internal/gemm"

// General convolutions: groups, dilation, separate strides and asymmetric padding, as ONNX's
// Conv allows. Convolutions without any of these keep the tuned paths of conv.go. A depthwise
// convolution (one input channel per group) runs a direct loop per channel, whose inner loop
// is a contiguous multiply-add along the output row when the stride is 1; im2col would copy
// every input pixel kh·kw times for one multiply-add each. Other groups are one im2col and one
// matrix product per group.

// normalize fills the optional fields of c and reports whether it needs the general path.
// Symmetric Pads on a dense, undilated convolution with equal strides become Pad.
func (c Conv) normalize() (Conv, bool) {
	c.Groups, c.DilH, c.DilW = or1(c.Groups), or1(c.DilH), or1(c.DilW)
	if c.StrideW == 0 {
		c.StrideW = c.Stride
	}
	symmetric := true
	if c.Pads != nil {
		if len(c.Pads) == 4 {
			symmetric = c.Pads[0] == c.Pads[1] && c.Pads[1] == c.Pads[2] && c.Pads[2] == c.Pads[3]
			if symmetric {
				c.Pad = c.Pads[0]
			}
		} else {
			symmetric = false
		}
	}
	general := c.Groups != 1 || c.DilH != 1 || c.DilW != 1 || c.StrideW != c.Stride || !symmetric
	if !general {
		c.Pads = nil
	}
	return c, general
}

// gconv is a grouped, dilated, asymmetrically padded convolution.
type gconv struct {
	cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl int
	in, out                                           Shape
	w, bias                                           []float32
	// depthwise: one input channel per group, cout/cin outputs each, computed directly.
	depthwise bool
	// fw[g] is group g's weights (cout/groups × cin/groups·kh·kw), bw[g] their transpose.
	fw, bw []*gemm.Packed
	// wf is a depthwise kernel flipped in both directions, for the stride-1 backward pass.
	wf []float32
	// fgeo and bgeo: the depthwise forward pass and the stride-1 backward pass (the output
	// gradient correlated with the flipped kernel) on unpadded planes, with their masks.
	fgeo, bgeo dwGeom
	// ones is an all-ones mask for dwRows on one row (depthwiseBackRows).
	ones []uint32
	// act: a depthwise convolution clamps each output plane to [lo, hi] as soon as it is
	// computed (set by fuseActivations, whose wrapper also masks the gradient).
	act    bool
	lo, hi float32
}

func (b *Builder) convGeneral(name string, x Value, c Conv) Value {
	in := b.shape(x)
	pads := c.Pads
	if pads == nil {
		pads = []int{c.Pad, c.Pad, c.Pad, c.Pad}
	}
	switch {
	case len(pads) != 4 || min(pads[0], pads[1], pads[2], pads[3]) < 0:
		return b.fail("%s: pads %v, want four non-negative [top, left, bottom, right]", name, c.Pads)
	case c.Out <= 0 || c.KH <= 0 || c.KW <= 0 || c.Stride <= 0 || c.StrideW <= 0 || c.DilH <= 0 || c.DilW <= 0 || c.Groups <= 0:
		return b.fail("%s: invalid convolution %d×%d out %d stride %d×%d dilation %d×%d groups %d", name, c.KH, c.KW, c.Out, c.Stride, c.StrideW, c.DilH, c.DilW, c.Groups)
	case in.C%c.Groups != 0 || c.Out%c.Groups != 0:
		return b.fail("%s: %d groups do not divide %d input and %d output channels", name, c.Groups, in.C, c.Out)
	case len(c.Weight) != c.Out*(in.C/c.Groups)*c.KH*c.KW:
		return b.fail("%s: weight has %d elements, want %d×%d×%d×%d", name, len(c.Weight), c.Out, in.C/c.Groups, c.KH, c.KW)
	case c.Bias != nil && len(c.Bias) != c.Out:
		return b.fail("%s: bias has %d elements, want %d", name, len(c.Bias), c.Out)
	}
	oh := (in.H+pads[0]+pads[2]-c.DilH*(c.KH-1)-1)/c.Stride + 1
	ow := (in.W+pads[1]+pads[3]-c.DilW*(c.KW-1)-1)/c.StrideW + 1
	if in.H+pads[0]+pads[2] < c.DilH*(c.KH-1)+1 || in.W+pads[1]+pads[3] < c.DilW*(c.KW-1)+1 || oh <= 0 || ow <= 0 {
		return b.fail("%s: %d×%d kernel does not fit input %v", name, c.KH, c.KW, in)
	}
	g := &gconv{cin: in.C, cout: c.Out, groups: c.Groups, kh: c.KH, kw: c.KW, sh: c.Stride, sw: c.StrideW,
		dh: c.DilH, dw: c.DilW, pt: pads[0], pl: pads[1], in: in, out: Shape{c.Out, oh, ow}, w: c.Weight, bias: c.Bias}
	g.depthwise = c.Groups == in.C
	if !g.depthwise {
		g.pack()
	} else {
		// The flipped kernel of the backward pass: wf[co][i][j] = w[co][kh−1−i][kw−1−j].
		k := c.KH * c.KW
		g.wf = make([]float32, len(c.Weight))
		for co := range c.Out {
			for t := range k {
				g.wf[co*k+t] = c.Weight[co*k+k-1-t]
			}
		}
		g.fgeo, g.bgeo = g.fwdGeom().withMask(), g.backGeom().withMask()
		g.ones = make([]uint32, (g.out.W-1)*g.sw+1+(c.KW-1)*c.DilW)
		for k := range g.ones {
			g.ones[k] = ^uint32(0)
		}
	}
	return b.add(name, g, g.out, x)
}

// pack packs each group's weights for the forward product and their transpose for the backward.
func (g *gconv) pack() {
	cig, cog := g.cin/g.groups, g.cout/g.groups
	k := cig * g.kh * g.kw
	t := make([]float32, k*cog)
	for gr := range g.groups {
		w := g.w[gr*cog*k : (gr+1)*cog*k]
		g.fw = append(g.fw, gemm.Pack(cog, k, w, k))
		for co := range cog {
			for r := range k {
				t[r*cog+co] = w[co*k+r]
			}
		}
		g.bw = append(g.bw, gemm.Pack(k, cog, t, cog))
	}
}

func (g *gconv) workspace(cap int) (col, tmp int) {
	if g.depthwise {
		return 0, 0
	}
	rows := g.cin / g.groups * g.kh * g.kw
	ohw := g.out.H * g.out.W
	return rows * chunk(rows, ohw, cap) * ohw, 0
}

func (g *gconv) axes() (ay, ax axis) {
	return axis{g.in.H, g.out.H, g.sh, g.dh, g.pt}, axis{g.in.W, g.out.W, g.sw, g.dw, g.pl}
}

// geom is the lowering of one group's forward pass.
func (g *gconv) geom() lowerGeom {
	ay, ax := g.axes()
	return lowerGeom{kh: g.kh, kw: g.kw, y: ay, x: ax}
}

func (g *gconv) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	if g.depthwise {
		g.depthwiseForward(x, n, in[0], ldi, out, ldo)
		return
	}
	cig, cog := g.cin/g.groups, g.cout/g.groups
	rows := cig * g.kh * g.kw
	per, geo := chunk(rows, ohw, x.cap), g.geom()
	for gr := range g.groups {
		for b0 := 0; b0 < n; b0 += per {
			b1 := min(n, b0+per)
			cols := (b1 - b0) * ohw
			geo.im2col(x.col, cols, in[0], ldi, gr*cig, cig, b0, b1, 0, g.out.H, nil)
			g.fw[gr].Mul(out[gr*cog*ldo+b0*ohw:], ldo, x.col, cols, cols, nil, false, x.ws)
		}
	}
	if g.bias != nil {
		for co, v := range g.bias {
			x.addBias(out[co*ldo:co*ldo+n*ohw], v)
		}
	}
}

func (g *gconv) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	if g.depthwise {
		g.depthwiseBackward(x, n, gout, ldo, gin[0], ldi)
		return
	}
	cig, cog := g.cin/g.groups, g.cout/g.groups
	rows := cig * g.kh * g.kw
	per, geo := chunk(rows, ohw, x.cap), g.geom()
	for gr := range g.groups {
		for b0 := 0; b0 < n; b0 += per {
			b1 := min(n, b0+per)
			cols := (b1 - b0) * ohw
			g.bw[gr].Mul(x.col, cols, gout[gr*cog*ldo+b0*ohw:], ldo, cols, nil, false, x.ws)
			geo.col2im(gin[0], ldi, gr*cig, cig, b0, b1, 0, g.out.H, x.col, cols)
		}
	}
}

// padPlane writes the h×w plane src into dst (hp×wp) at row top, column left, zeros around.
func padPlane(dst, src []float32, h, w, hp, wp, top, left int) {
	dst = dst[:hp*wp]
	clear(dst[:top*wp])
	clear(dst[(top+h)*wp:])
	for y := range h {
		row := dst[(top+y)*wp : (top+y+1)*wp]
		clear(row[:left])
		copy(row[left:left+w], src[y*w:(y+1)*w])
		clear(row[left+w:])
	}
}

// dwPads returns the padded input plane's size for the forward pass, and the padded output
// gradient's size and offsets for the stride-1 backward pass (a convolution of the gradient with
// the flipped kernel).
func (g *gconv) dwPads() (hp, wp, bh, bw, btop, bleft int) {
	hp = max(g.in.H+g.pt, (g.out.H-1)*g.sh+(g.kh-1)*g.dh+1)
	wp = max(g.in.W+g.pl, (g.out.W-1)*g.sw+(g.kw-1)*g.dw+1)
	bh, bw = g.in.H+(g.kh-1)*g.dh, g.in.W+(g.kw-1)*g.dw
	btop, bleft = (g.kh-1)*g.dh-g.pt, (g.kw-1)*g.dw-g.pl
	return
}

// padScratch is the padded plane of the depthwise path (dwRow reads whole padded rows).
func (g *gconv) padScratch(cap int) (pad, tile int) {
	if !g.depthwise {
		return 0, 0
	}
	hp, wp, bh, bw, _, _ := g.dwPads()
	// tile: the stride-1 plane on the padded width, or one padded row (planeRows); the border
	// columns of flatPlane, or one row at every column (rowsPlane).
	ext := (g.kw - 1) * g.dw
	t := max(g.out.H*wp, 2*hp*((wp+1)/2)+8, g.in.H*bw, max(g.in.H, g.out.H)*ext, (g.out.W-1)*g.sw+1+2*ext)
	return max(hp*wp, bh*bw) + g.dwSlack(), t + 8
}

// fwdGeom is the forward pass as a dwGeom; backGeom the stride-1 backward pass, the correlation
// of the output gradient with the flipped kernel.
func (g *gconv) fwdGeom() dwGeom {
	return dwGeom{sh: g.in.H, sw: g.in.W, dh: g.out.H, dw: g.out.W, kh: g.kh, kw: g.kw,
		sy: g.sh, sx: g.sw, dy: g.dh, dx: g.dw, pt: g.pt, pl: g.pl}
}

func (g *gconv) backGeom() dwGeom {
	_, _, _, _, btop, bleft := g.dwPads()
	return dwGeom{sh: g.out.H, sw: g.out.W, dh: g.in.H, dw: g.in.W, kh: g.kh, kw: g.kw,
		sy: 1, sx: 1, dy: g.dh, dx: g.dw, pt: btop, pl: bleft}
}

// backFlipped reports whether the backward pass is the stride-1 correlation of the padded
// output gradient with the flipped kernel (every output gradient lands inside the padding).
func (g *gconv) backFlipped() bool {
	_, _, _, _, btop, bleft := g.dwPads()
	return g.sh == 1 && g.sw == 1 && btop >= 0 && bleft >= 0 &&
		btop+g.out.H <= g.in.H+(g.kh-1)*g.dh && bleft+g.out.W <= g.in.W+(g.kw-1)*g.dw
}

// depthwiseForward computes each output plane from its input plane, bias first and then the
// taps in a fixed order, the fused clamp last. Planes are read in place (conv_depthwise.go):
// with stride 1 and the output as wide as the input (same padding), on the flattened planes,
// all kernel rows in one dwRows call per run of rows, the taps that wrap around a row's end
// masked (flatPlane); with a horizontal stride of 1 or 2, each output row at every input column,
// every sw-th kept (rowsPlane). Other strides run tap by tap on a zero-padded copy.
func (g *gconv) depthwiseForward(x *execCtx, n int, src []float32, ldi int, dst []float32, ldo int) {
	hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
	mult := g.cout / g.cin
	if fg := &g.fgeo; fg.flat() || g.sw <= 2 {
		if g.dwPlanesForward(n, src, ldi, dst, ldo) {
			return
		}
		k := g.kh * g.kw
		for co := range g.cout {
			ci := co / mult
			w := g.w[co*k : (co+1)*k]
			for b := range n {
				in := src[ci*ldi+b*hw : ci*ldi+(b+1)*hw]
				out := dst[co*ldo+b*ohw : co*ldo+(b+1)*ohw]
				if fg.flat() {
					fg.flatPlane(out, in, w, false, g.bias0(co))
				} else {
					fg.rowsPlane(out, in, w, x.tile, g.bias0(co))
				}
				if g.act {
					clip(out, out, g.lo, g.hi)
				}
			}
		}
		return
	}
	hp, wp, _, _, _, _ := g.dwPads()
	pad := x.pad[:hp*wp+g.dwSlack()]
	clear(pad[hp*wp:])
	for ci := range g.cin {
		for b := range n {
			padPlane(pad, src[ci*ldi+b*hw:ci*ldi+(b+1)*hw], g.in.H, g.in.W, hp, wp, g.pt, g.pl)
			for co := ci * mult; co < (ci+1)*mult; co++ {
				out := dst[co*ldo+b*ohw : co*ldo+(b+1)*ohw]
				switch {
				case g.sh == 1 && g.sw == 1:
					g.planeStride1(x, out, pad, co, wp)
				case g.sw <= 2:
					g.planeRows(out, x.tile, pad, co, wp)
				default:
					g.planeStrided(out, pad, co, wp)
				}
				if g.act {
					clip(out, out, g.lo, g.hi)
				}
			}
		}
	}
}

// dwSlack is how far past the padded plane the whole-plane rows of dwRow may read.
func (g *gconv) dwSlack() int { return (g.kw-1)*g.dw + 8 }

func (g *gconv) bias0(co int) float32 {
	if g.bias == nil {
		return 0
	}
	return g.bias[co]
}

// planeStride1 computes output plane co on the padded width in x.tile, then keeps its columns.
func (g *gconv) planeStride1(x *execCtx, out, pad []float32, co, wp int) {
	w := g.w[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
	full := x.tile[:whole(g.out.H*wp)]
	b := g.bias0(co)
	for k := range full {
		full[k] = b
	}
	for i := range g.kh {
		dwRow(full, pad[i*g.dh*wp:], w[i*g.kw:(i+1)*g.kw], g.dw)
	}
	for oy := range g.out.H {
		copy(out[oy*g.out.W:(oy+1)*g.out.W], full[oy*wp:])
	}
}

// planeRows computes output plane co for a horizontal stride of 2 (any vertical stride): each
// output row's input rows are correlated with the kernel at every column, one dwRow call per
// kernel row over the whole padded row in tmp, and the row keeps every second column. That is
// twice the multiply-adds, but whole vectors of them, where splitting rows into even and odd
// columns or strided taps cost more in scalar moves than the products themselves.
func (g *gconv) planeRows(out, tmp, pad []float32, co, wp int) {
	w := g.w[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
	full := tmp[:whole((g.out.W-1)*g.sw+1)]
	b := g.bias0(co)
	for oy := range g.out.H {
		for k := range full {
			full[k] = b
		}
		for i := range g.kh {
			dwRow(full, pad[(oy*g.sh+i*g.dh)*wp:], w[i*g.kw:(i+1)*g.kw], g.dw)
		}
		d := out[oy*g.out.W : (oy+1)*g.out.W]
		for ox := range d {
			d[ox] = full[ox*g.sw]
		}
	}
}

// planeStrided computes output plane co for any other strides, tap by tap.
func (g *gconv) planeStrided(out, pad []float32, co, wp int) {
	w := g.w[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
	b := g.bias0(co)
	for oy := range g.out.H {
		d := out[oy*g.out.W : (oy+1)*g.out.W]
		for ox := range d {
			acc := b
			for i := range g.kh {
				row := pad[(oy*g.sh+i*g.dh)*wp+ox*g.sw:]
				for j, wv := range w[i*g.kw : (i+1)*g.kw] {
					acc += float32(wv * row[j*g.dw])
				}
			}
			d[ox] = acc
		}
	}
}

// depthwiseBackward adds each output gradient plane, through the transposed taps, onto its
// input plane's gradient: for stride 1 as the correlation of the gradient with the flipped
// kernel, in place on flattened planes (flatPlane, adding) when the widths agree, else on a
// padded copy; for horizontal strides up to 2 row by row (depthwiseBackRows); otherwise tap by
// tap.
func (g *gconv) depthwiseBackward(x *execCtx, n int, gout []float32, ldo int, gin []float32, ldi int) {
	hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
	mult := g.cout / g.cin
	if bg := &g.bgeo; g.backFlipped() && bg.flat() {
		if g.dwPlanesBackward(n, gout, ldo, gin, ldi) {
			return
		}
		k := g.kh * g.kw
		for co := range g.cout {
			ci := co / mult
			wf := g.wf[co*k : (co+1)*k]
			for b := range n {
				bg.flatPlane(gin[ci*ldi+b*hw:ci*ldi+(b+1)*hw], gout[co*ldo+b*ohw:co*ldo+(b+1)*ohw], wf, true, 0)
			}
		}
		return
	}
	if g.backFlipped() {
		_, _, bh, bw, btop, bleft := g.dwPads()
		pad := x.pad[:bh*bw+g.dwSlack()]
		clear(pad[bh*bw:])
		full := x.tile[:whole(g.in.H*bw)]
		for co := range g.cout {
			ci := co / mult
			wf := g.wf[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
			for b := range n {
				padPlane(pad, gout[co*ldo+b*ohw:co*ldo+(b+1)*ohw], g.out.H, g.out.W, bh, bw, btop, bleft)
				d := gin[ci*ldi+b*hw : ci*ldi+(b+1)*hw]
				// On the padded width, as the forward pass, then added to the gradient.
				clear(full)
				for i := range g.kh {
					dwRow(full, pad[i*g.dh*bw:], wf[i*g.kw:(i+1)*g.kw], g.dw)
				}
				for iy := range g.in.H {
					drow := d[iy*g.in.W : (iy+1)*g.in.W]
					for k, v := range full[iy*bw : iy*bw+g.in.W] {
						drow[k] += v
					}
				}
			}
		}
		return
	}
	if g.sw <= 2 {
		g.depthwiseBackRows(x, n, gout, ldo, gin, ldi)
		return
	}
	ay, ax := g.axes()
	ow := g.out.W
	for co := range g.cout {
		ci := co / mult
		w := g.w[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
		for b := range n {
			d := gin[ci*ldi+b*hw : ci*ldi+(b+1)*hw]
			gr := gout[co*ldo+b*ohw : co*ldo+(b+1)*ohw]
			for i := range g.kh {
				ylo, yhi := ay.valid(i)
				for j := range g.kw {
					xlo, xhi := ax.valid(j)
					wv := w[i*g.kw+j]
					for oy := ylo; oy < yhi; oy++ {
						line := d[(oy*g.sh-g.pt+i*g.dh)*g.in.W:]
						ix := xlo*g.sw - g.pl + j*g.dw
						for _, v := range gr[oy*ow+xlo : oy*ow+xhi] {
							line[ix] += float32(wv * v)
							ix += g.sw
						}
					}
				}
			}
		}
	}
}

// depthwiseBackRows is the input gradient for strides other than 1 (horizontal stride at most
// 2), the transpose of rowsPlane: each output gradient row, spread to every sw-th column of a
// row with zeros between and around, is correlated with each reversed kernel row (one dwRows
// call) and added straight onto the input gradient row under that kernel row, its columns
// inside the input only.
func (g *gconv) depthwiseBackRows(x *execCtx, n int, gout []float32, ldo int, gin []float32, ldi int) {
	if g.depthwiseBack2(n, gout, ldo, gin, ldi) {
		return // stride 2, three taps: whole planes per kernel call, the same bits (dwback2.go)
	}
	hw, ohw := g.in.H*g.in.W, g.out.H*g.out.W
	mult := g.cout / g.cin
	// up is the spread row with ext zeros on either side; only its every sw-th column from ext
	// on is ever written, so it is cleared once. Column c of up, past the first ext, is padded
	// input column c, input column c − pl.
	ext, l := (g.kw-1)*g.dw, (g.out.W-1)*g.sw+1
	up := x.tile[:l+2*ext]
	clear(up)
	c0, c1 := g.pl, min(l+ext, g.in.W+g.pl)
	if c0 >= c1 {
		return
	}
	for co := range g.cout {
		ci := co / mult
		wf := g.wf[co*g.kh*g.kw : (co+1)*g.kh*g.kw]
		for b := range n {
			gr := gout[co*ldo+b*ohw : co*ldo+(b+1)*ohw]
			d := gin[ci*ldi+b*hw : ci*ldi+(b+1)*hw]
			for oy := range g.out.H {
				for ox, v := range gr[oy*g.out.W : (oy+1)*g.out.W] {
					up[ext+ox*g.sw] = v
				}
				// Input row iy under kernel row i gets Σⱼ w[i][j]·up[x − j·dw], the correlation
				// of up with the reversed kernel row, which is row kh−1−i of the flipped kernel.
				for i := range g.kh {
					iy := oy*g.sh + i*g.dh - g.pt
					if iy < 0 || iy >= g.in.H {
						continue
					}
					row := d[iy*g.in.W+c0-g.pl : iy*g.in.W+c1-g.pl]
					r := g.kh - 1 - i
					dwRows(row, up[c0:], wf[r*g.kw:(r+1)*g.kw], g.ones, g.kw, g.dw, 1, 0, 0, true, 0)
				}
			}
		}
	}
}

// whole rounds a row length up to whole vectors of 8, so that dwRow runs no scalar tail: the
// extra columns read the padded plane's next row or its slack (dwSlack) and are discarded, and
// every kept column gets the same operations either way.
func whole(n int) int { return (n + 7) &^ 7 }

// dwRowGo is dwRow's loop: for each x the taps in order, each product rounded before its add.
func dwRowGo(out, src, w []float32, dil int) {
	for x := range out {
		acc := out[x]
		for j, wv := range w {
			acc += float32(wv * src[x+j*dil])
		}
		out[x] = acc
	}
}

// axpyGo adds a·x to y: a multiply, then an add, each rounded (the conversion forbids fusing
// them), as the assembly does.
func axpyGo(y, x []float32, a float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += float32(a * v)
	}
}
