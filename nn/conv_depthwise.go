package nn

// Depthwise planes without a padded copy. A plane is read in place: a tap that falls outside it
// is skipped, not multiplied by a stored zero. Output pixels whose taps all lie inside the plane
// are computed by dwRows, several kernel rows per call; the few border pixels (the padded
// columns, and rows whose kernel rows leave the plane) by dwPixel, with the same operations in
// the same order, so a pixel's value does not depend on which of the two computed it.

// dwRowsGo is dwRows's loop: for each x the taps in order, a masked source value as +0, each
// product rounded before its add, then the old value added when add is set.
func dwRowsGo(out, src, w []float32, mask []uint32, kw, dil, kh, rs, ms int, add bool, bias float32) {
	for x := range out {
		acc := bias
		for i := range kh {
			s := src[x+i*rs:]
			for j, wv := range w[i*kw : (i+1)*kw] {
				v := s[j*dil]
				if mask[j*ms+x] == 0 {
					v = 0
				}
				acc += float32(wv * v)
			}
		}
		if add {
			acc = out[x] + acc
		}
		out[x] = acc
	}
}

// dwRows2Go is dwRows2's loop: dwRowsGo at a horizontal stride of 2, without a mask.
func dwRows2Go(out, src, w []float32, kw, dil, kh, rs int, bias float32) {
	for x := range out {
		acc := bias
		for i := range kh {
			s := src[2*x+i*rs:]
			for j, wv := range w[i*kw : (i+1)*kw] {
				acc += float32(wv * s[j*dil])
			}
		}
		out[x] = acc
	}
}

// dwGeom is one depthwise correlation of an sh×sw source plane into a dh×dw destination plane:
// dst[y][x] = bias + Σ w[i][j]·src[y·sy + i·dy − pt][x·sx + j·dx − pl], zero outside the
// source. mask is dwRows's: for a flat geometry, tap column j's validity at each destination
// pixel (kw planes); otherwise all ones (one row, ms 0).
type dwGeom struct {
	sh, sw, dh, dw, kh, kw, sy, sx, dy, dx, pt, pl int
	mask                                           []uint32
	// runs is flatPlane's runs for planes3 (kw = 3, flat), rows2 stride2Rows's rows for planes2
	// (stride 2 across), each nil where it does not apply.
	runs  []dwRun
	rows2 []dwRow2
}

// dwRow2 is one of stride2Rows's output rows as dwPlanes2k512 takes it: the byte offsets of its
// outputs in the destination plane, of the source row of its first kernel row inside in the
// source plane and of that kernel row in the channel's weights; the kernel rows inside. The kernel
// reads it as four 8-byte words, dwRun as five (TestDwPlanesRecordLayout).
type dwRow2 struct {
	out, src, w, kh int
}

// dwRun is one of flatPlane's runs of rows with the same kernel rows inside, as dwPlanes3k512
// takes it: the byte offsets of its first output (and mask value) in the destination plane, of
// its tap (lo, 0) source from the source plane's start (negative when that tap is masked) and of
// kernel row lo in the channel's weights; its kernel rows and outputs. It is the same for every
// plane of a convolution.
type dwRun struct {
	out, src, w, kh, n int
}

// withMask returns d with its mask and runs.
func (d dwGeom) withMask() dwGeom {
	d.runs, d.rows2 = d.planeRuns(), d.planeRows2()
	if !d.flat() {
		d.mask = make([]uint32, (d.dw-1)*d.sx+1)
		for k := range d.mask {
			d.mask[k] = ^uint32(0)
		}
		return d
	}
	n := d.dh * d.dw
	d.mask = make([]uint32, d.kw*n)
	for j := range d.kw {
		for p := range n {
			if c := p%d.dw + j*d.dx - d.pl; c >= 0 && c < d.sw {
				d.mask[j*n+p] = ^uint32(0)
			}
		}
	}
	return d
}

// rows returns the kernel rows [lo, hi) whose source row for destination row y is inside.
func (d *dwGeom) rows(y int) (lo, hi int) {
	top := y*d.sy - d.pt // source row of kernel row 0
	if d.dy == 1 {       // without the divisions, which cost more than a border pixel's taps
		lo = min(max(-top, 0), d.kh)
		return lo, max(lo, min(d.kh, d.sh-top))
	}
	if top < 0 {
		lo = (-top + d.dy - 1) / d.dy
	}
	if d.sh-1-top >= 0 {
		hi = min(d.kh, (d.sh-1-top)/d.dy+1)
	}
	return lo, max(lo, hi)
}

// pixel computes destination pixel (y, x) tap by tap, as dwRows would (a tap left or right of
// the source adds its product with +0).
func (d *dwGeom) pixel(dst, src, w []float32, y, x int, add bool, bias float32) float32 {
	lo, hi := d.rows(y)
	return d.pixelRows(dst, src, w, y, x, lo, hi, add, bias)
}

// pixelRows is pixel over kernel rows [lo, hi), those of rows(y).
func (d *dwGeom) pixelRows(dst, src, w []float32, y, x, lo, hi int, add bool, bias float32) float32 {
	acc := bias
	for i := lo; i < hi; i++ {
		row := src[(y*d.sy+i*d.dy-d.pt)*d.sw:]
		for j, wv := range w[i*d.kw : (i+1)*d.kw] {
			var v float32
			if c := x*d.sx + j*d.dx - d.pl; c >= 0 && c < d.sw {
				v = row[c]
			}
			acc += float32(wv * v)
		}
	}
	if add {
		acc = dst[y*d.dw+x] + acc
	}
	return acc
}

// flat reports whether the destination is computed on the flattened planes: stride 1 and equal
// widths, so that every tap is one fixed offset in the flattened source, and the taps that wrap
// around to the previous or next row (left or right of the source) are masked.
func (d *dwGeom) flat() bool {
	pr := (d.kw-1)*d.dx - d.pl
	return d.sy == 1 && d.sx == 1 && d.sw == d.dw && d.pl >= 0 && pr >= 0 && d.pl+pr < d.dw
}

// flatPlane computes the destination plane (flat must hold): runs of rows with the same kernel
// rows inside as one dwRows call over the flattened planes, except the first and last few
// pixels of a run, whose wrapped taps would read outside the source, which pixel computes.
func (d *dwGeom) flatPlane(dst, src, w []float32, add bool, bias float32) {
	W, ext := d.dw, (d.kw-1)*d.dx
	n := d.dh * W
	for y := 0; y < d.dh; {
		y1, lo, hi := d.run(y)
		a, b := y*W, y*W
		if lo < hi && d.kw == 3 {
			// The whole run in one call where the kernel reads no masked tap (every tap it reads
			// is inside the source).
			off := (lo*d.dy-d.pt)*W - d.pl
			if dwRows3At(dst[a:y1*W], src, a+off, w[lo*3:hi*3], d.mask[a:], d.dx, hi-lo, d.dy*W, n, add, bias) {
				y = y1
				continue
			}
		}
		if lo < hi {
			off := (lo*d.dy-d.pt)*W - d.pl // source index of destination 0 for tap (lo, 0)
			a = max(y*W, -off)
			b = max(a, min(y1*W, d.sh*W-off-(hi-1-lo)*d.dy*W-ext))
			dwRows(dst[a:b], src[a+off:], w[lo*d.kw:hi*d.kw], d.mask[a:], d.kw, d.dx, hi-lo, d.dy*W, n, add, bias)
		}
		for k := y * W; k < a; k++ {
			dst[k] = d.pixel(dst, src, w, k/W, k%W, add, bias)
		}
		for k := b; k < y1*W; k++ {
			dst[k] = d.pixel(dst, src, w, k/W, k%W, add, bias)
		}
		y = y1
	}
}

// run returns the end of the run of destination rows from y on with the kernel rows [lo, hi)
// inside.
func (d *dwGeom) run(y int) (y1, lo, hi int) {
	lo, hi = d.rows(y)
	for y1 = y + 1; y1 < d.dh; y1++ {
		if l, h := d.rows(y1); l != lo || h != hi {
			break
		}
	}
	return y1, lo, hi
}

// planeRuns returns flatPlane's runs where each is one dwRows3At call (flat, kw = 3, at least
// one kernel row inside every run), else nil: a run without kernel rows is pixel's.
func (d *dwGeom) planeRuns() []dwRun {
	if !d.flat() || d.kw != 3 {
		return nil
	}
	var runs []dwRun
	for y := 0; y < d.dh; {
		y1, lo, hi := d.run(y)
		if lo >= hi {
			return nil
		}
		off := (lo*d.dy-d.pt)*d.dw - d.pl // as flatPlane's
		runs = append(runs, dwRun{out: 4 * y * d.dw, src: 4 * (y*d.dw + off), w: 4 * 3 * lo, kh: hi - lo, n: (y1 - y) * d.dw})
		y = y1
	}
	return runs
}

// planeRows2 returns stride2Rows's rows where each is one dwRows2At call (stride 2 across, not
// flat, at least one kernel row inside every row), else nil.
func (d *dwGeom) planeRows2() []dwRow2 {
	if d.sx != 2 || d.flat() {
		return nil
	}
	rows := make([]dwRow2, d.dh)
	for y := range rows {
		lo, hi := d.rows(y)
		if lo >= hi {
			return nil
		}
		rows[y] = dwRow2{out: 4 * y * d.dw, src: 4 * (y*d.sy + lo*d.dy - d.pt) * d.sw, w: 4 * lo * d.kw, kh: hi - lo}
	}
	return rows
}

// rowsPlane computes the destination plane row by row for a horizontal stride of 1 or 2: each
// row at every source column in tmp (sx·(dw−1)+1 values), one dwRows call over the kernel rows
// inside, every sx-th kept; the columns whose taps leave the row by pixel. A stride of 2 goes to
// stride2Plane, which computes only the kept columns.
func (d *dwGeom) rowsPlane(dst, src, w, tmp []float32, bias float32) {
	if d.sx == 2 {
		d.stride2Plane(dst, src, w, tmp, bias)
		return
	}
	ext := (d.kw - 1) * d.dx
	nq := (d.dw-1)*d.sx + 1
	qlo, qhi := d.pl, min(nq, d.sw-ext+d.pl) // tmp columns with every tap inside
	for y := range d.dh {
		lo, hi := d.rows(y)
		out := dst[y*d.dw : (y+1)*d.dw]
		if lo < hi && qlo < qhi {
			top := (y*d.sy + lo*d.dy - d.pt) * d.sw
			dwRows(tmp[qlo:qhi], src[top+qlo-d.pl:], w[lo*d.kw:hi*d.kw], d.mask, d.kw, d.dx, hi-lo, d.dy*d.sw, 0, false, bias)
		}
		// Columns [xlo, xhi) are those with x·sx in [qlo, qhi).
		xlo, xhi := 0, 0
		if lo < hi && qlo < qhi {
			xlo, xhi = (qlo+d.sx-1)/d.sx, min(d.dw, (qhi+d.sx-1)/d.sx)
		}
		for x := range xlo {
			out[x] = d.pixel(dst, src, w, y, x, false, bias)
		}
		if d.sx == 1 {
			copy(out[xlo:xhi], tmp[xlo:xhi])
		} else {
			t := tmp[:xhi*d.sx]
			for x := xlo; x < xhi; x++ {
				out[x] = t[x*d.sx]
			}
		}
		for x := max(xlo, xhi); x < d.dw; x++ {
			out[x] = d.pixel(dst, src, w, y, x, false, bias)
		}
	}
}

// padMaxWidth is the widest source row stride2Plane copies between zero columns: the copy costs
// about one pixel call per 32 values (measured on Zen 4), so wider rows, which have as few
// border columns, call pixel.
const padMaxWidth = 32

// stride2Plane computes the destination plane row by row for a horizontal stride of 2,
// computing no column that is then dropped: with AVX-512 whole rows (stride2Rows); otherwise
// one dwRows2 call over the kernel rows inside per row, for the columns whose taps all lie
// inside the source row. The others (the padding) pixel computes, except in a narrow plane,
// which is first copied into tmp between zero columns (rows stay as they are: kernel rows
// outside are skipped, as pixel skips them), so that they too are the call's, with pixel's +0
// values.
func (d *dwGeom) stride2Plane(dst, src, w, tmp []float32, bias float32) {
	if maskedRows() {
		d.stride2Rows(dst, src, w, bias)
		return
	}
	ext := (d.kw - 1) * d.dx
	// Columns [xlo, xhi) have 2x − pl ≥ 0 and 2x − pl + ext ≤ sw − 1.
	xlo, xhi := (d.pl+1)/2, 0
	if v := d.sw - 1 - ext + d.pl; v >= 0 {
		xhi = min(d.dw, v/2+1)
	}
	// The kernel reads rows: src, or its padded copy (row stride rs, source column 0 at left).
	rows, rs, left := src, d.sw, d.pl
	if (xlo > 0 || xhi < d.dw) && d.sw <= padMaxWidth {
		if wp := max(d.pl+d.sw, 2*(d.dw-1)+ext+1); len(tmp) >= d.sh*wp {
			padPlane(tmp, src, d.sh, d.sw, d.sh, wp, 0, d.pl)
			rows, rs, left, xlo, xhi = tmp, wp, 0, 0, d.dw
		}
	}
	for y := range d.dh {
		lo, hi := d.rows(y)
		out := dst[y*d.dw : (y+1)*d.dw]
		a, b := 0, 0
		if lo < hi && xlo < xhi {
			a, b = xlo, xhi
			top := (y*d.sy+lo*d.dy-d.pt)*rs + 2*xlo - left
			dwRows2(out[a:b], rows[top:], w[lo*d.kw:hi*d.kw], d.kw, d.dx, hi-lo, d.dy*rs, bias)
		}
		for x := range a {
			out[x] = d.pixelRows(dst, src, w, y, x, lo, hi, false, bias)
		}
		for x := b; x < d.dw; x++ {
			out[x] = d.pixelRows(dst, src, w, y, x, lo, hi, false, bias)
		}
	}
}

// stride2Rows is stride2Plane with a kernel that takes whole rows, borders included
// (dwRows2At: it reads +0 for a column outside the source row, as pixel does).
func (d *dwGeom) stride2Rows(dst, src, w []float32, bias float32) {
	for y := range d.dh {
		out := dst[y*d.dw : (y+1)*d.dw]
		lo, hi := d.rows(y)
		if lo >= hi {
			for x := range out {
				out[x] = bias // no kernel row inside: pixel's sum is the bias alone
			}
			continue
		}
		row := (y*d.sy + lo*d.dy - d.pt) * d.sw
		dwRows2At(out, src, row, w[lo*d.kw:hi*d.kw], d.kw, d.dx, hi-lo, d.dy*d.sw, d.pl, d.sw, bias)
	}
}
