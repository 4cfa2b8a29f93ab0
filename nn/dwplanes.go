package nn

// Depthwise convolutions whose planes the AVX-512 kernels take whole (dwGeom.planes3 for the
// flat geometries of 3-wide kernels, planes2 for stride 2 across): a whole layer, or a channel's
// planes, per kernel call. On 7×7 and 14×14 planes the Go work around each plane (a call per
// run of rows or per row, their bounds, the separate clamp pass) cost about as much as the
// arithmetic. Each plane's values are flatPlane's or stride2Rows's (clamped as clip clamps), bit
// for bit.

// planes computes nb planes of each of nch channels with planes3 or planes2, and reports
// whether it did (false: neither applies, nothing done).
func (d *dwGeom) planes(dst, src, w, bias []float32, nch, nb, ldi, ldo int, add, act bool, lo, hi float32) bool {
	if d.runs != nil {
		return d.planes3(dst, src, w, bias, nch, nb, ldi, ldo, add, act, lo, hi)
	}
	return !add && d.planes2(dst, src, w, bias, nch, nb, ldi, ldo, act, lo, hi)
}

// dwPlanesForward computes every output plane, clamped when g.act, as depthwiseForward's plane
// loop would, and reports whether it did.
func (g *gconv) dwPlanesForward(n int, src []float32, ldi int, dst []float32, ldo int) bool {
	fg := &g.fgeo
	bias := g.bias
	if bias == nil {
		bias = []float32{0}
	}
	mult := g.cout / g.cin
	if mult == 1 {
		return fg.planes(dst, src, g.w, bias, g.cout, n, ldi, ldo, false, g.act, g.lo, g.hi)
	}
	// A channel at a time: the output channels of one input channel are not at a fixed stride.
	k := g.kh * g.kw
	for co := range g.cout {
		b := bias[:1]
		if len(bias) > 1 {
			b = bias[co : co+1]
		}
		ci := co / mult
		if !fg.planes(dst[co*ldo:], src[ci*ldi:], g.w[co*k:], b, 1, n, ldi, ldo, false, g.act, g.lo, g.hi) {
			return false // at the first channel: planes applies to all or none
		}
	}
	return true
}

// dwPlanesBackward adds every output gradient plane through the flipped kernel onto its input
// plane's gradient, as depthwiseBackward's flatPlane loop would (the channels in the same order,
// so that the sums onto a shared input plane are too), and reports whether it did.
func (g *gconv) dwPlanesBackward(n int, gout []float32, ldo int, gin []float32, ldi int) bool {
	bg := &g.bgeo
	zero := []float32{0}
	mult := g.cout / g.cin
	if mult == 1 {
		return bg.planes3(gin, gout, g.wf, zero, g.cout, n, ldo, ldi, true, false, 0, 0)
	}
	k := g.kh * g.kw
	for co := range g.cout {
		ci := co / mult
		if !bg.planes3(gin[ci*ldi:], gout[co*ldo:], g.wf[co*k:], zero, 1, n, ldo, ldi, true, false, 0, 0) {
			return false // at the first channel, as above
		}
	}
	return true
}
