package gemm

import (
	"fmt"
	"unsafe"
)

// Register and cache blocking, tuned on Zen1 (32 KiB L1d, 512 KiB L2). mr×nr is the micro-kernel
// tile; kcMax bounds the K block so that an A micro-panel (mr·kc) and a B micro-panel (kc·nr)
// stay in or near L1 together; mcMax bounds the rows of A swept per packed B block so that they
// stay in L2; ncMax bounds the packed B block (and so the workspace). prefetchRows is how far
// ahead, in rows, the packing kernel prefetches B: far enough to cover memory latency, near
// enough that the prefetched lines of a power-of-two row stride, which all fall in a few cache
// sets, are not evicted before use.
const (
	mr           = 6
	nr           = 16
	kcMax        = 384
	mcMax        = 96 // multiple of mr
	ncMax        = 1024
	prefetchRows = 16
	// thinRows is the most rows (four row panels) that kernelThin multiplies at a time, and
	// the most for which Mul takes its path whatever K: each B panel then feeds one pass only,
	// so packing it would be a wasted store, and the edge rows need no copy.
	thinRows = 4 * mr
	// thinK is the longest K block for which Mul takes kernelThin's path whatever M, thinRows
	// rows at a time: B's block is short enough to stay in L2 between the groups of rows, and
	// the panel-by-panel path's calls and packing cost most with the fewest k steps.
	thinK = 32
)

// Packed is a row-major M×K matrix A, packed once (weights are frozen) into panels for the
// micro-kernel. It is read-only after Pack and may be shared by any number of goroutines.
type Packed struct {
	M, K int

	// data holds ceil(M/mr) panels of K·mr values; panel p, column k, row r is at
	// data[p*K*mr + k*mr + r]. Rows past M are zero.
	data []float32
	// kc is the K block size. It depends on K alone so that every column of every call sees
	// the same summation order.
	kc int
}

// Pack copies a (row-major, row stride lda) into a new Packed.
// It panics if m or k is negative, lda < k, or a is too short: these are programmer errors.
func Pack(m, k int, a []float32, lda int) *Packed {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: Pack: negative dimension m=%d k=%d", m, k))
	}
	if m > 0 && k > 0 {
		if lda < k {
			panic(fmt.Sprintf("gemm: Pack: lda=%d < k=%d", lda, k))
		}
		if need := (m-1)*lda + k; len(a) < need {
			panic(fmt.Sprintf("gemm: Pack: len(a)=%d, need %d for m=%d k=%d lda=%d", len(a), need, m, k, lda))
		}
	}
	panels := (m + mr - 1) / mr
	p := &Packed{M: m, K: k, data: alignedFloats(panels * k * mr), kc: blockK(k)}
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+k]
		pan := p.data[(i/mr)*k*mr : (i/mr+1)*k*mr]
		for kk, v := range row {
			pan[kk*mr+i%mr] = v
		}
	}
	return p
}

// blockK splits K into equal-as-possible blocks of at most kcMax.
func blockK(k int) int {
	if k <= kcMax {
		return max(k, 1)
	}
	nb := (k + kcMax - 1) / kcMax
	return (k + nb - 1) / nb
}

// RowOp optionally transforms B's rows as B is packed: b'[k][j] = b[k][j]*Scale[k] + Shift[k],
// then max(0, ·) if ReLU. nil Scale means 1, nil Shift means 0. A nil *RowOp means B is used as
// is. (Used to fuse inference BatchNorm + ReLU into a 1×1 convolution.)
type RowOp struct {
	Scale, Shift []float32
	ReLU         bool
}

// Workspace is per-goroutine scratch for packing B; it grows on first use and is then reused, so
// the steady state allocates nothing. Not safe for concurrent use.
type Workspace struct {
	b    []float32        // packed B micro-panels
	tmp  [mr * nr]float32 // edge tiles are computed here, then copied out
	kern kernelID         // the micro-kernel; the zero value is the process default
}

// NewWorkspace returns an empty Workspace that uses the process's kernel (see Kernel).
func NewWorkspace() *Workspace { return &Workspace{} }

// Mul computes C = A·op(B) (acc false) or C += A·op(B) (acc true).
// B is K×n, row-major with row stride ldb; C is M×n, row-major with row stride ldc.
// Single-threaded: the caller parallelises across calls. A nil ws uses a temporary Workspace
// (which allocates).
//
// Mul panics on programmer errors: n < 0, ldb < n or ldc < n, b or c too short, op.Scale or
// op.Shift shorter than K.
func (a *Packed) Mul(c []float32, ldc int, b []float32, ldb int, n int, op *RowOp, acc bool, ws *Workspace) {
	a.check(c, ldc, b, ldb, n, op)
	a.mul(c, ldc, b, ldb, n, op, acc, nil, nil, ws)
}

// MulGrad computes C += (A·B) ⊙ op′(X), the product passed backwards through a RowOp on C's
// rows: it adds (A·B)[i][j]·Scale[i] to C[i][j] where X[i][j]·Scale[i] + Shift[i] > 0, or
// everywhere without ReLU (nil Scale means 1, nil Shift 0). X is the op's input, with C's layout
// (row stride ldc). It is the input gradient of a 1×1 convolution whose input is normalised and
// rectified as it is read, added to C as each tile is stored, so the product is never written
// out. Each element is computed as vec.BNGrad computes it from the stored product: the rounded
// product times Scale (rounded), then added to C (rounded). A must fit one K block (OneBlock).
//
// MulGrad panics on Mul's programmer errors, on x shorter than c needs, on op slices shorter
// than M, and when A is more than one K block.
func (a *Packed) MulGrad(c []float32, ldc int, b []float32, ldb int, n int, op *RowOp, x []float32, ws *Workspace) {
	a.check(c, ldc, b, ldb, n, nil)
	m := a.M
	if !a.OneBlock() {
		panic(fmt.Sprintf("gemm: MulGrad: K=%d is more than one block (%d)", a.K, a.kc))
	}
	if op == nil {
		op = &RowOp{}
	}
	if m > 0 && n > 0 {
		if need := (m-1)*ldc + n; len(x) < need {
			panic(fmt.Sprintf("gemm: MulGrad: len(x)=%d, need %d for M=%d n=%d ldc=%d", len(x), need, m, n, ldc))
		}
		if (op.Scale != nil && len(op.Scale) < m) || (op.Shift != nil && len(op.Shift) < m) {
			panic(fmt.Sprintf("gemm: MulGrad: op slices of %d and %d for M=%d", len(op.Scale), len(op.Shift), m))
		}
	}
	a.mul(c, ldc, b, ldb, n, nil, true, op, x, ws)
}

// OneBlock reports whether A's K fits one K block, as MulGrad requires.
func (a *Packed) OneBlock() bool { return a.K <= a.kc }

// mul is Mul, and MulGrad when grad is not nil.
func (a *Packed) mul(c []float32, ldc int, b []float32, ldb int, n int, op *RowOp, acc bool, grad *RowOp, x []float32, ws *Workspace) {
	m, k := a.M, a.K
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			clearRows(c, ldc, m, n)
		}
		return
	}
	if ws == nil {
		ws = NewWorkspace()
	}
	kc := a.kc
	// With at most mcMax rows each B micro-panel is consumed right after packing, so one slot
	// does; otherwise a whole NC block is packed once and reused by every MC block.
	slots := 1
	if m > mcMax {
		slots = (min(n, ncMax) + nr - 1) / nr
	}
	if need := slots * kc * nr; len(ws.b) < need {
		ws.b = alignedFloats(need)
	}

	var scale, shift []float32
	relu := false
	if op != nil {
		scale, shift, relu = op.Scale, op.Shift, op.ReLU
	}

	for jc := 0; jc < n; jc += ncMax {
		np := (min(ncMax, n-jc) + nr - 1) / nr
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			beta := acc || pc > 0
			var sc, sh []float32
			if scale != nil {
				sc = scale[pc : pc+kb]
			}
			if shift != nil {
				sh = shift[pc : pc+kb]
			}
			q0 := 0 // the B panels done by mulThin
			if grad == nil {
				q0 = a.mulThin(c[jc:], ldc, b[pc*ldb+jc:], ldb, pc, kb, min(ncMax, n-jc)/nr, beta, sc, sh, relu, ws)
			}
			for ic := 0; ic < m; ic += mcMax {
				iEnd := min(ic+mcMax, m)
				for q := q0; q < np; q++ {
					j0 := jc + q*nr
					w := min(nr, n-j0)
					slot := 0
					if slots > 1 {
						slot = q
					}
					bp := ws.b[slot*kb*nr : (slot+1)*kb*nr]
					var src []float32 // B's rows pc… at column j0, while the panel is still to pack
					var next uintptr  // where the B rows packed next start, for prefetching
					if ic == 0 {
						off := pc*ldb + j0
						src = b[off : off+(kb-1)*ldb+w]
						switch {
						case j0+nr < min(n, jc+ncMax):
							next = uintptr(unsafe.Pointer(&src[0])) + 4*nr
						case pc+kb < k:
							next = uintptr(unsafe.Pointer(&b[(pc+kb)*ldb+jc]))
						default:
							next = uintptr(unsafe.Pointer(&src[0]))
						}
						if w < nr {
							packGo(bp, src, ldb, kb, w, sc, sh, relu)
							src = nil
						}
					}
					for ir := ic; ir < iEnd; ir += mr {
						if rows := (iEnd - ir) / mr; src == nil && w == nr && rows > 0 {
							// The full row panels below in one call, where the assembly runs them.
							off := ir*ldc + j0
							var xs, s, t []float32
							gr := false
							if grad != nil {
								xs, s, t, gr = x[off:], sliceFrom(grad.Scale, ir), sliceFrom(grad.Shift, ir), grad.ReLU
							}
							if kernelRows(ws.kern, kb, a.data[(ir/mr)*k*mr+pc*mr:], k*mr, bp, c[off:], ldc, beta, rows, grad != nil, xs, s, t, gr) {
								ir += (rows - 1) * mr
								continue
							}
						}
						if src != nil && grad == nil && w == nr && (iEnd-ir)/mr >= 4 {
							// The first four row panels pack B as they multiply, where the kernel can.
							off := ir*ldc + j0
							if kernelPack4(ws.kern, kb, a.data[(ir/mr)*k*mr+pc*mr:], k*mr, src, ldb, bp, c[off:], ldc, beta, sc, sh, relu, next) {
								src = nil
								ir += 3 * mr
								continue
							}
						}
						ap := a.data[(ir/mr)*k*mr+pc*mr : (ir/mr)*k*mr+(pc+kb)*mr]
						// Full tiles go straight to C. Edge tiles are computed by the same kernel
						// on the zero-padded panels into ws.tmp and then copied out, so that edge
						// rows and columns get exactly the arithmetic of full tiles.
						// With grad, every tile goes through ws.tmp and the epilogue.
						ct, ldt, bt := ws.tmp[:], nr, false
						h := min(mr, m-ir)
						full := h == mr && w == nr
						if full && grad == nil {
							off := ir*ldc + j0
							ct, ldt, bt = c[off:off+(mr-1)*ldc+nr], ldc, beta
						}
						if src != nil {
							// The first row panel packs B as it multiplies.
							kernelPack(ws.kern, kb, ap, src, ldb, bp, ct, ldt, bt, sc, sh, relu, next)
							src = nil
						} else {
							kernel(ws.kern, kb, ap, bp, ct, ldt, bt)
						}
						switch {
						case grad != nil:
							off := ir*ldc + j0
							ws.gradOut(c[off:], x[off:], ldc, h, w, sliceFrom(grad.Scale, ir), sliceFrom(grad.Shift, ir), grad.ReLU)
						case !full:
							ws.copyOut(c[ir*ldc+j0:], ldc, h, w, beta)
						}
					}
				}
			}
		}
	}
}

// mulThin multiplies all of A's rows by panels full panels of B's K block pc (kb rows at b, row
// stride ldb) with kernelThin, thinRows rows of C at a time, when the kernel has it and A is
// thin (few rows, or a short K block); it returns the number of panels it did, 0 or panels.
// Each group of rows reads the B block in place: the first from memory, the next ones from
// L2, where a block of at most thinK rows of ncMax columns (128 KiB) stays.
func (a *Packed) mulThin(c []float32, ldc int, b []float32, ldb, pc, kb, panels int, beta bool, sc, sh []float32, relu bool, ws *Workspace) int {
	m, k := a.M, a.K
	if panels == 0 || !(m <= thinRows || kb <= thinK) || !hasThin(ws.kern) {
		return 0
	}
	// hasThin was kernelThin's only refusal that depends on more than these arguments.
	for i0 := 0; i0 < m; i0 += thinRows {
		kernelThin(ws.kern, kb, a.data[(i0/mr)*k*mr+pc*mr:], k*mr, b, ldb, c[i0*ldc:], ldc, beta, min(thinRows, m-i0), panels, sc, sh, relu)
	}
	return panels
}

// sliceFrom is v[i:], or nil for a nil v.
func sliceFrom(v []float32, i int) []float32 {
	if v == nil {
		return nil
	}
	return v[i:]
}

// clearRows sets C's first m rows of n values to zero: the product with K = 0.
func clearRows(c []float32, ldc, m, n int) {
	for i := range m {
		clear(c[i*ldc : i*ldc+n])
	}
}

// copyOut writes the first h rows and w columns of the edge tile in ws.tmp to c (row stride
// ldc), adding them to it when beta.
func (ws *Workspace) copyOut(c []float32, ldc, h, w int, beta bool) {
	for r := range h {
		dst := c[r*ldc : r*ldc+w]
		t := ws.tmp[r*nr : r*nr+w]
		if beta {
			for j := range dst {
				dst[j] += t[j]
			}
		} else {
			copy(dst, t)
		}
	}
}

// gradOut adds the tile in ws.tmp (h rows, w columns) to c through the backward pass of a row
// operation with scale s and shift t (nil means 1 and 0) at x (see MulGrad).
func (ws *Workspace) gradOut(c, x []float32, ldc, h, w int, s, t []float32, relu bool) {
	if h == mr && w == nr && s != nil && t != nil && gradTile(ws.kern, ws.tmp[:], c, x, ldc, s, t, relu) {
		return
	}
	for r := range h {
		sr, tr := float32(1), float32(0)
		if s != nil {
			sr = s[r]
		}
		if t != nil {
			tr = t[r]
		}
		dst, xs, g := c[r*ldc:r*ldc+w], x[r*ldc:r*ldc+w], ws.tmp[r*nr:r*nr+w]
		for j, v := range g {
			if relu && !(xs[j]*sr+tr > 0) {
				continue
			}
			if s != nil {
				v *= sr
			}
			dst[j] += v
		}
	}
}

func (a *Packed) check(c []float32, ldc int, b []float32, ldb int, n int, op *RowOp) {
	m, k := a.M, a.K
	if n < 0 {
		panic(fmt.Sprintf("gemm: Mul: negative n=%d", n))
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic(fmt.Sprintf("gemm: Mul: ldc=%d < n=%d", ldc, n))
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("gemm: Mul: len(c)=%d, need %d for M=%d n=%d ldc=%d", len(c), need, m, n, ldc))
	}
	if k == 0 {
		return
	}
	if ldb < n {
		panic(fmt.Sprintf("gemm: Mul: ldb=%d < n=%d", ldb, n))
	}
	if need := (k-1)*ldb + n; len(b) < need {
		panic(fmt.Sprintf("gemm: Mul: len(b)=%d, need %d for K=%d n=%d ldb=%d", len(b), need, k, n, ldb))
	}
	if op != nil {
		if op.Scale != nil && len(op.Scale) < k {
			panic(fmt.Sprintf("gemm: Mul: len(op.Scale)=%d < K=%d", len(op.Scale), k))
		}
		if op.Shift != nil && len(op.Shift) < k {
			panic(fmt.Sprintf("gemm: Mul: len(op.Shift)=%d < K=%d", len(op.Shift), k))
		}
	}
}

// MulNaive is the obvious triple loop (float32 accumulation in k order), for tests.
// It computes C = A·B (acc false) or C += A·B (acc true) with A m×k (stride lda), B k×n (stride
// ldb) and C m×n (stride ldc). It indexes the slices directly, so short slices panic.
func MulNaive(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*lda+p] * b[p*ldb+j]
			}
			if acc {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}

// alignedFloats returns a zeroed slice of n float32s starting on a 64-byte (cache line) boundary.
func alignedFloats(n int) []float32 {
	const lineFloats = 64 / 4
	s := make([]float32, n+lineFloats)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(s))) % 64; r != 0 {
		off = int(64-r) / 4
	}
	return s[off : off+n : off+n]
}
