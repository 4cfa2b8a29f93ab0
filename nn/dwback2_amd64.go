//go:build amd64 && !purego

package nn

// back2Kernel reports whether the stride-2 backward kernel runs: where the AVX-512 depthwise
// kernels do, unless a test has turned it off.
func back2Kernel() bool { return hasAVX512 && !back2Off }

// dwBack2k512 adds one output gradient plane (oh rows of ow4 bytes at gr) through the kernel
// onto the input gradient plane at d (rows ldb bytes apart; rows outside 0…h−1 skipped), as
// back2Plan describes: w holds the flipped kernel (3·kh values), tbl nc chunks, rstep = dh·ldb.
//
//go:noescape
func dwBack2k512(d, gr, w *float32, tbl *uint64, nc, ldb, h, oh, ow4, sh, dh, pt, kh, rstep, b0, b1, b2 int, perm uint64)

// dwBack2r3k512 is dwBack2k512 for kh = 3 and sh = 2·dh over noy output rows whose input rows
// all lie inside the plane, d at the first one (dstep = dh·ldb, sstep = sh·ldb bytes apart):
// the row shared by consecutive output rows is kept in carry (nc·16 values, holding that row's
// first values on entry and its last on return) rather than stored and reloaded.
//
//go:noescape
func dwBack2r3k512(d, gr, w, carry *float32, tbl *uint64, nc, noy, ow4, dstep, sstep, b0, b1, b2 int, perm uint64)

// depthwiseBack2 is depthwiseBackRows for the layers back2Plan takes, bit for bit; it reports
// false, doing nothing, for the others.
func (g *gconv) depthwiseBack2(n int, gout []float32, ldo int, gin []float32, ldi int) bool {
	var p back2Plan
	if !back2Kernel() || !g.back2Plan(&p) {
		return false
	}
	if p.nx <= 0 {
		return true
	}
	hw, ohw, k := g.in.H*g.in.W, g.out.H*g.out.W, 3*g.kh
	mult := g.cout / g.cin
	for co := range g.cout {
		ci := co / mult
		wf := g.wf[co*k : (co+1)*k]
		for b := range n {
			d := gin[ci*ldi+b*hw : ci*ldi+(b+1)*hw]
			gr := gout[co*ldo+b*ohw : co*ldo+(b+1)*ohw]
			// The output rows in order: those with kernel rows outside the plane around the
			// ones that carry a row from one to the next.
			g.back2Rows(d, gr, wf, &p, 0, p.oyA)
			g.back2Carry(d, gr, wf, &p)
			g.back2Rows(d, gr, wf, &p, p.oyB, g.out.H)
		}
	}
	return true
}

// back2Rows adds output rows oy0…oy1−1 of the plane gr onto d with dwBack2k512. The kernel
// stays inside the slices: rows 0…H−1 of nx ≤ W columns of d, and columns 0…ow−1 (lane masks)
// of gr's rows from oy0 on.
func (g *gconv) back2Rows(d, gr, wf []float32, p *back2Plan, oy0, oy1 int) {
	if oy1 <= oy0 {
		return
	}
	gr = gr[oy0*g.out.W : oy1*g.out.W]
	dwBack2k512(&d[0], &gr[0], &wf[0], &p.tbl[0], p.nc, 4*g.in.W, g.in.H, oy1-oy0, 4*g.out.W,
		g.sh, g.dh, g.pt-oy0*g.sh, g.kh, 4*g.dh*g.in.W, p.base[0], p.base[1], p.base[2], p.perm)
}

// back2Carry adds output rows oyA…oyB−1 onto d with dwBack2r3k512, which touches input rows
// oyA·sh − pt through (oyB−1)·sh − pt + 2·dh (inside the plane by back2Plan's choice of the
// range), nx ≤ W columns of each, and p's carry row.
func (g *gconv) back2Carry(d, gr, wf []float32, p *back2Plan) {
	if p.oyB <= p.oyA {
		return
	}
	w, ldb := g.in.W, 4*g.in.W
	r0, r1 := p.oyA*g.sh-g.pt, (p.oyB-1)*g.sh-g.pt+2*g.dh
	d, gr = d[r0*w:(r1+1)*w], gr[p.oyA*g.out.W:p.oyB*g.out.W]
	carry := p.carryRow()
	copy(carry, d[:p.nx])
	dwBack2r3k512(&d[0], &gr[0], &wf[0], &carry[0], &p.tbl[0], p.nc, p.oyB-p.oyA, 4*g.out.W,
		g.dh*ldb, g.sh*ldb, p.base[0], p.base[1], p.base[2], p.perm)
	copy(d[(r1-r0)*w:(r1-r0)*w+p.nx], carry)
}
