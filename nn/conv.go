package nn

import (
	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/internal/vec"
)

// conv is a 2-D convolution computed as matrix products: a 1×1 stride-1 convolution multiplies
// the weights by the input directly; a 3×3 stride-1 pad-1 one of planes that fit whole groups
// of Winograd tiles (see winogradFits) runs Winograd's F(4×4, 3×3), with a quarter of the
// multiplications, and one of other planes F(2×2, 3×3) (see useWinograd2), with 4/9 of
// them; other stride-1 ones read a padded copy in place when the lowered rows are few, and the
// rest are lowered with im2col in chunks of images. Its input gradient is a stride-1
// convolution of the output gradient with the flipped kernel when the convolution preserves the
// plane (the common 3×3 pad 1 case, where this is a wide product instead of a thin one, and
// Winograd's again: F(4×4) where the forward uses it, F(2×2) on any other plane), and a
// transposed product followed by col2im otherwise.
type conv struct {
	cin, cout, kh, kw, stride, pad int
	in, out                        Shape
	w, bias                        []float32

	// Set by the plan.
	pre       *affine      // inference batch norm (+ReLU) of the input, fused into this layer
	fw        *gemm.Packed // cout × cin·kh·kw
	bw        *gemm.Packed // cin × cout·kh·kw (flipped) when flipped, else cin·kh·kw × cout
	flipped   bool
	preRowOp  *gemm.RowOp
	pointwise bool
	// direct: stride-1 products read a zero-padded copy of the input in place (gemm.MulIndirect)
	// instead of lowering it, when the lowered rows are few enough to stay in cache.
	fwDirect, bwDirect bool
	fwOff, bwOff       []int
	// Winograd F(4×4, 3×3) for 3×3 stride-1 pad-1 planes that fit it, in each direction.
	fwWino, bwWino *winograd
	// Winograd F(2×2, 3×3) for the other 3×3 stride-1 pad-1 planes (see winograd2Fits).
	fwW2, bwW2 *winograd2
	// bwAdjoint: the input gradient is the adjoint of fwWino (see adjointMin), and bwWino nil.
	bwAdjoint bool
	// gradStore: this layer alone takes its input's gradient, so its backward overwrites it
	// rather than adding to it (see ownGradients).
	gradStore bool
	// gradOver: the same without a fused normalisation, on every path (see storeGradients).
	gradOver bool
	// act: the output is clamped to [lo, hi] in the epilogue, with the bias (epilogue.go; set
	// by fuseActivations, whose wrapper also masks the gradient).
	act    bool
	lo, hi float32
}

// winogradBudget is the number of floats one Winograd chunk's transformed inputs and products
// may take: about half of Zen1's 512 KiB L2.
const winogradBudget = 64 << 10

// prepare chooses the algorithms and transforms and packs the weights for both directions.
func (c *conv) prepare() { c.prepareWith(false) }

// prepareWith is prepare, using Winograd's algorithm where it applies unless noWinograd (for
// tests and benchmarks that compare the paths).
func (c *conv) prepareWith(noWinograd bool) { c.prepareAll(noWinograd, false) }

// prepareAll is prepareWith that can also keep the flipped-kernel Winograd backward where the
// adjoint would apply (noAdjoint), for tests that compare the two.
func (c *conv) prepareAll(noWinograd, noAdjoint bool) {
	k := c.cin * c.kh * c.kw
	c.pointwise = c.kh == 1 && c.kw == 1 && c.stride == 1 && c.pad == 0
	wino := !noWinograd && c.kh == 3 && c.kw == 3 && c.stride == 1 && c.pad == 1 && winogradFits(c.in.H, c.in.W)
	wino2 := useWinograd2 && !noWinograd && !wino && c.kh == 3 && c.kw == 3 && c.stride == 1 && c.pad == 1 &&
		winograd2Fits(c.in.H, c.in.W)
	c.fw, c.bw, c.fwWino, c.bwWino, c.fwDirect, c.bwDirect = nil, nil, nil, nil, false, false
	c.fwW2, c.bwW2 = nil, nil
	c.bwAdjoint = wino && !noAdjoint && c.cin*c.cout >= adjointMin
	if wino {
		c.fwWino = newWinograd(c.cin, c.cout, c.in.H, c.in.W, c.w, winogradBudget)
	} else if wino2 {
		c.fwW2 = newWinograd2(c.cin, c.cout, c.in.H, c.in.W, c.w, winogradBudget)
	} else {
		c.fw = gemm.Pack(c.cout, k, c.w, k)
	}
	c.flipped = !c.pointwise && c.stride == 1 && c.kh == c.kw && c.out.H == c.in.H && c.out.W == c.in.W &&
		c.kh-1-c.pad >= 0 && c.kw-1-c.pad >= 0
	var t []float32
	if !c.bwAdjoint {
		t = make([]float32, len(c.w))
	}
	switch {
	case c.bwAdjoint:
	case c.flipped:
		// t[ci][co][i][j] = w[co][ci][kh-1-i][kw-1-j]
		for co := range c.cout {
			for ci := range c.cin {
				for i := range c.kh {
					for j := range c.kw {
						t[((ci*c.cout+co)*c.kh+i)*c.kw+j] = c.w[((co*c.cin+ci)*c.kh+c.kh-1-i)*c.kw+c.kw-1-j]
					}
				}
			}
		}
		if wino {
			c.bwWino = newWinograd(c.cout, c.cin, c.out.H, c.out.W, t, winogradBudget)
		} else if wino2 {
			c.bwW2 = newWinograd2(c.cout, c.cin, c.out.H, c.out.W, t, winogradBudget)
		} else {
			c.bw = gemm.Pack(c.cin, c.cout*c.kh*c.kw, t, c.cout*c.kh*c.kw)
		}
	default:
		for co := range c.cout {
			for r := range k {
				t[r*c.cout+co] = c.w[co*k+r]
			}
		}
		c.bw = gemm.Pack(k, c.cout, t, c.cout)
	}
	if c.pre != nil {
		c.preRowOp = &gemm.RowOp{Scale: c.pre.scale, Shift: c.pre.shift, ReLU: c.pre.relu}
	}
	const directRows = 640
	if !c.pointwise && c.fwWino == nil && c.fwW2 == nil && c.stride == 1 && k <= directRows {
		c.fwDirect = true
		c.fwOff = tapOffsets(c.cin, c.in.H, c.in.W, c.kh, c.kw, c.pad)
	}
	if c.flipped && c.bwWino == nil && c.bwW2 == nil && c.cout*c.kh*c.kw <= directRows {
		c.bwDirect = true
		c.bwOff = tapOffsets(c.cout, c.out.H, c.out.W, c.kh, c.kw, c.kh-1-c.pad)
	}
}

// tapOffsets returns, for each kernel tap (channel, i, j), where its shifted window starts in a
// padded copy of the image (see padImage).
func tapOffsets(ch, h, w, kh, kw, pad int) []int {
	hp, wp := h+2*pad, w+2*pad
	off := make([]int, 0, ch*kh*kw)
	for c := range ch {
		for i := range kh {
			for j := range kw {
				off = append(off, c*hp*wp+i*wp+j)
			}
		}
	}
	return off
}

// padSize is the padded copy's length: the planes, plus room for the kernel's last whole tile.
func padSize(ch, h, w, kh, pad int) int {
	hp, wp := h+2*pad, w+2*pad
	return ch*hp*wp + kh*wp + 2*gemm.RoundUp(1)
}

// padImage writes image b of src (ch channels of h×w, channel stride ld) into dst with pad zeros
// around each plane, normalising (and rectifying) it first when pre is set.
func padImage(dst, src []float32, ld, ch, h, w, pad, b int, pre *affine) {
	hp, wp := h+2*pad, w+2*pad
	for c := range ch {
		plane := dst[c*hp*wp : (c+1)*hp*wp]
		clear(plane[:pad*wp])
		clear(plane[(hp-pad)*wp:])
		in := src[c*ld+b*h*w:]
		for y := range h {
			row := plane[(y+pad)*wp : (y+pad+1)*wp]
			clear(row[:pad])
			clear(row[pad+w:])
			line := in[y*w : (y+1)*w]
			if pre == nil {
				copy(row[pad:pad+w], line)
			} else {
				vec.ScaleShift(row[pad:pad+w], line, pre.scale[c], pre.shift[c], pre.relu)
			}
		}
	}
}

// direct runs a stride-1 convolution of image b of src through a padded copy: the product is
// computed on the padded width (its extra columns are discarded) and written to image b of dst
// (rows of oh×ow, channel stride ldd), added to it when acc.
func (x *execCtx) direct(a *gemm.Packed, off []int, src []float32, lds, ch, h, w, kh, pad, b int, pre *affine, dst []float32, ldd, oh, ow int, acc bool) {
	wp := w + 2*pad
	padImage(x.pad, src, lds, ch, h, w, pad, b, pre)
	n := oh * wp
	a.MulIndirect(x.tile, n, x.pad, off, n, false)
	for r := range a.M {
		t := x.tile[r*n:]
		d := dst[r*ldd+b*oh*ow:]
		for oy := range oh {
			if acc {
				row := d[oy*ow : (oy+1)*ow]
				for i, v := range t[oy*wp : oy*wp+ow] {
					row[i] += v
				}
			} else {
				copy(d[oy*ow:(oy+1)*ow], t[oy*wp:oy*wp+ow])
			}
		}
	}
}

// chunk is the number of images lowered per product: enough columns to keep the kernel busy,
// few enough that the lowered matrix stays in cache.
func chunk(rows, colsPerImage, cap int) int {
	k := max(1, 1024/colsPerImage)
	k = min(k, max(1, (1<<20)/(rows*colsPerImage)))
	return min(k, cap)
}

// colBudget is the most floats a strided convolution lowers at once (1 MiB, Zen 4's L2): the
// stem of an ImageNet network lowers 147 rows of 112×112 columns per image, 7 MiB.
const colBudget = 1 << 18

// lowering returns how the lowered (im2col) paths split a micro-batch: per images per product,
// each in bands of band output rows. A strided convolution whose one image would not fit
// colBudget is lowered a band of rows at a time, at least 256 columns each; the others take
// whole images (see chunk). Bands depend on the shapes alone, so every image is summed in the
// same order (col2im) whatever the batch.
func (c *conv) lowering(cap int) (per, band int) {
	rows, ow := c.cin*c.kh*c.kw, c.out.W
	if c.stride > 1 && rows*c.out.H*ow > colBudget {
		band = max(colBudget/(rows*ow), (256+ow-1)/ow, 1)
		return 1, min(band, c.out.H)
	}
	return chunk(rows, c.out.H*ow, cap), c.out.H
}

// scratch returns the col and tmp sizes this layer needs at batch capacity cap.
func (c *conv) scratch(cap int) (col, tmp int) {
	hw := c.in.H * c.in.W
	if !c.pointwise && ((!c.fwDirect && c.fwWino == nil && c.fwW2 == nil) || !c.flipped) {
		// The lowered forward product and the transposed backward one.
		per, band := c.lowering(cap)
		col = c.cin * c.kh * c.kw * per * band * c.out.W
	}
	if c.flipped && !c.bwDirect && c.bwWino == nil && c.bwW2 == nil {
		rows := c.cout * c.kh * c.kw
		col = max(col, rows*chunk(rows, hw, cap)*hw)
	}
	for _, wg := range []*winograd{c.fwWino, c.bwWino} {
		if wg != nil {
			v, _, _ := wg.scratch(cap)
			col = max(col, v)
		}
	}
	for _, wg := range []*winograd2{c.fwW2, c.bwW2} {
		if wg != nil {
			v, _, _ := wg.scratch(cap)
			col = max(col, v)
		}
	}
	if c.bwAdjoint {
		z, _, _ := c.fwWino.adjointScratch(cap)
		col = max(col, z)
	}
	if c.pre != nil {
		tmp = c.cin * (cap*hw + rowPad)
	}
	return col, tmp
}

// directScratch returns the padded-copy and tile sizes of the direct paths, and the phase-plane
// and product sizes of the Winograd ones.
func (c *conv) directScratch(cap int) (pad, tile int) {
	for _, wg := range []*winograd{c.fwWino, c.bwWino} {
		if wg != nil {
			_, m, p := wg.scratch(cap)
			pad, tile = max(pad, p), max(tile, m)
		}
	}
	for _, wg := range []*winograd2{c.fwW2, c.bwW2} {
		if wg != nil {
			_, m, p := wg.scratch(cap)
			pad, tile = max(pad, p), max(tile, m)
		}
	}
	if c.bwAdjoint {
		_, m, p := c.fwWino.adjointScratch(cap)
		pad, tile = max(pad, p), max(tile, m)
	}
	if c.fwDirect {
		pad = max(pad, padSize(c.cin, c.in.H, c.in.W, c.kh, c.pad))
		tile = max(tile, c.cout*c.out.H*(c.in.W+2*c.pad))
	}
	if c.bwDirect {
		p := c.kh - 1 - c.pad
		pad = max(pad, padSize(c.cout, c.out.H, c.out.W, c.kh, p))
		tile = max(tile, c.cin*c.in.H*(c.out.W+2*p))
	}
	return pad, tile
}

func (c *conv) forward(x *execCtx, n int, in [][]float32, out []float32) {
	hw, ohw := c.in.H*c.in.W, c.out.H*c.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	switch {
	case c.pointwise:
		if c.bias == nil && !c.act {
			c.fw.Mul(out, ldo, in[0], ldi, n*hw, c.preRowOp, false, x.ws)
			return
		}
		// The epilogue runs on each column block while it is in cache.
		cols := epilogueCols(c.cout)
		for j0 := 0; j0 < n*hw; j0 += cols {
			j1 := min(n*hw, j0+cols)
			c.fw.Mul(out[j0:], ldo, in[0][j0:], ldi, j1-j0, c.preRowOp, false, x.ws)
			c.epilogue(out, ldo, j0, j1)
		}
		return
	case c.fwWino != nil:
		c.fwWino.run(x, n, in[0], ldi, c.pre, out, ldo, false, c.rowEpilogue())
	case c.fwW2 != nil:
		c.fwW2.run(x, n, in[0], ldi, c.pre, out, ldo, false, c.rowEpilogue())
	case c.fwDirect:
		for b := range n {
			x.direct(c.fw, c.fwOff, in[0], ldi, c.cin, c.in.H, c.in.W, c.kh, c.pad, b, c.pre, out, ldo, c.out.H, c.out.W, false)
			c.epilogue(out, ldo, b*ohw, (b+1)*ohw)
		}
	default:
		per, band := c.lowering(x.cap)
		ow, geo := c.out.W, c.geom()
		for b0 := 0; b0 < n; b0 += per {
			b1 := min(n, b0+per)
			for oy0 := 0; oy0 < c.out.H; oy0 += band {
				oy1 := min(c.out.H, oy0+band)
				cols := (b1 - b0) * (oy1 - oy0) * ow
				geo.im2col(x.col, cols, in[0], ldi, 0, c.cin, b0, b1, oy0, oy1, c.pre)
				j0 := b0*ohw + oy0*ow
				c.fw.Mul(out[j0:], ldo, x.col, cols, cols, nil, false, x.ws)
				c.epilogue(out, ldo, j0, j0+cols)
			}
		}
	}
}

func (c *conv) backward(x *execCtx, n int, in [][]float32, out, gout []float32, gin [][]float32) {
	if gin[0] == nil {
		return
	}
	hw, ohw := c.in.H*c.in.W, c.out.H*c.out.W
	ldi, ldo := x.ld(hw), x.ld(ohw)
	if c.gradStore {
		// Straight into gin, then through the normalisation in place.
		c.winoBackward(x, n, gout, ldo, gin[0], ldi, false)
		p := c.pre
		for ci := range c.cin {
			vec.BNGradInPlace(gin[0][ci*ldi:ci*ldi+n*hw], in[0][ci*ldi:ci*ldi+n*hw], p.scale[ci], p.shift[ci], p.relu)
		}
		return
	}
	if c.pointwise && c.pre != nil && c.bw != nil && c.bw.OneBlock() {
		// The product goes back through the normalisation as it is stored.
		c.bw.MulGrad(gin[0], ldi, gout, ldo, n*hw, c.preRowOp, in[0], x.ws)
		return
	}
	// Without a fused normalisation the gradient accumulates straight into gin; with one it
	// goes through tmp and is then scaled and masked.
	dst, acc := gin[0], !c.gradOver
	if c.pre != nil {
		dst, acc = x.tmp, false
	}
	switch {
	case c.pointwise:
		c.bw.Mul(dst, ldi, gout, ldo, n*hw, nil, acc, x.ws)
	case c.bwWino != nil || c.bwAdjoint:
		c.winoBackward(x, n, gout, ldo, dst, ldi, acc)
	case c.bwW2 != nil:
		c.bwW2.run(x, n, gout, ldo, nil, dst, ldi, acc, nil)
	case c.bwDirect:
		for b := range n {
			x.direct(c.bw, c.bwOff, gout, ldo, c.cout, c.out.H, c.out.W, c.kh, c.kh-1-c.pad, b, nil, dst, ldi, c.in.H, c.in.W, acc)
		}
	case c.flipped:
		rows := c.cout * c.kh * c.kw
		per, geo := chunk(rows, hw, x.cap), c.flippedGeom()
		for b0 := 0; b0 < n; b0 += per {
			b1 := min(n, b0+per)
			cols := (b1 - b0) * hw
			geo.im2col(x.col, cols, gout, ldo, 0, c.cout, b0, b1, 0, c.in.H, nil)
			c.bw.Mul(dst[b0*hw:], ldi, x.col, cols, cols, nil, acc, x.ws)
		}
	default:
		if !acc {
			for ci := range c.cin {
				clear(dst[ci*ldi : ci*ldi+n*hw])
			}
		}
		per, band := c.lowering(x.cap)
		ow, geo := c.out.W, c.geom()
		for b0 := 0; b0 < n; b0 += per {
			b1 := min(n, b0+per)
			for oy0 := 0; oy0 < c.out.H; oy0 += band {
				oy1 := min(c.out.H, oy0+band)
				cols := (b1 - b0) * (oy1 - oy0) * ow
				c.bw.Mul(x.col, cols, gout[b0*ohw+oy0*ow:], ldo, cols, nil, false, x.ws)
				geo.col2im(dst, ldi, 0, c.cin, b0, b1, oy0, oy1, x.col, cols)
			}
		}
	}
	if c.pre == nil {
		return
	}
	p := c.pre
	for ci := range c.cin {
		vec.BNGrad(gin[0][ci*ldi:ci*ldi+n*hw], x.tmp[ci*ldi:ci*ldi+n*hw], in[0][ci*ldi:ci*ldi+n*hw], p.scale[ci], p.shift[ci], p.relu)
	}
}

// winoBackward is the input gradient of a Winograd convolution, without its normalisation.
func (c *conv) winoBackward(x *execCtx, n int, gout []float32, ldo int, dst []float32, ldi int, acc bool) {
	if c.bwAdjoint {
		c.fwWino.adjoint(x, n, gout, ldo, dst, ldi, acc)
		return
	}
	c.bwWino.run(x, n, gout, ldo, nil, dst, ldi, acc, nil)
}

// geom is the lowering of the forward pass.
func (c *conv) geom() lowerGeom {
	return lowerGeom{kh: c.kh, kw: c.kw,
		y: axis{c.in.H, c.out.H, c.stride, 1, c.pad}, x: axis{c.in.W, c.out.W, c.stride, 1, c.pad}}
}

// flippedGeom is the lowering of the input gradient of a plane-preserving convolution: the
// output gradient, padded by kh−1−pad, correlated at stride 1 with the flipped kernel.
func (c *conv) flippedGeom() lowerGeom {
	p := c.kh - 1 - c.pad
	return lowerGeom{kh: c.kh, kw: c.kw,
		y: axis{c.out.H, c.in.H, 1, 1, p}, x: axis{c.out.W, c.in.W, 1, 1, p}}
}
