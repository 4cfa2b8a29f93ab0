package gemm

import "fmt"

// PanelWidth is the width of B's micro-panels: MulPanels reads B as ceil(n/PanelWidth) panels,
// each K rows of PanelWidth values.
const PanelWidth = nr

// MulPanels computes C = A·B (acc false) or C += A·B (acc true) like Mul without a row
// operation, for a B that its producer has already written in the micro-kernel's panel layout:
// element (p, j) of B is at bp[(j/PanelWidth)·K·PanelWidth + p·PanelWidth + j%PanelWidth]. Values
// of the last panel past column n are read but affect no element of C. The products are those
// of Mul bit for bit (the same kernel, blocking and summation order); only the packing is saved.
//
// MulPanels panics on programmer errors: n < 0, ldc < n, c or bp too short.
func (a *Packed) MulPanels(c []float32, ldc int, bp []float32, n int, acc bool, ws *Workspace) {
	m, k := a.M, a.K
	if n < 0 || (m > 0 && n > 0 && (ldc < n || len(c) < (m-1)*ldc+n)) {
		panic(fmt.Sprintf("gemm: MulPanels: n=%d ldc=%d len(c)=%d for M=%d", n, ldc, len(c), m))
	}
	panels := (n + nr - 1) / nr
	if len(bp) < panels*k*nr {
		panic(fmt.Sprintf("gemm: MulPanels: len(bp)=%d, need %d for K=%d n=%d", len(bp), panels*k*nr, k, n))
	}
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
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		beta := acc || pc > 0
		// mcMax rows of A stay in L2 while every panel of B passes through L1.
		for ic := 0; ic < m; ic += mcMax {
			iEnd := min(ic+mcMax, m)
			for q := range panels {
				j0 := q * nr
				w := min(nr, n-j0)
				b := bp[q*k*nr+pc*nr : q*k*nr+(pc+kb)*nr]
				for ir := ic; ir < iEnd; ir += mr {
					if rows := (iEnd - ir) / mr; w == nr && rows > 0 {
						if kernelRows(ws.kern, kb, a.data[(ir/mr)*k*mr+pc*mr:], k*mr, b, c[ir*ldc+j0:], ldc, beta, rows, false, nil, nil, nil, false) {
							ir += (rows - 1) * mr
							continue
						}
					}
					ap := a.data[(ir/mr)*k*mr+pc*mr : (ir/mr)*k*mr+(pc+kb)*mr]
					h := min(mr, m-ir)
					if h == mr && w == nr {
						off := ir*ldc + j0
						kernel(ws.kern, kb, ap, b, c[off:off+(mr-1)*ldc+nr], ldc, beta)
						continue
					}
					kernel(ws.kern, kb, ap, b, ws.tmp[:], nr, false)
					ws.copyOut(c[ir*ldc+j0:], ldc, h, w, beta)
				}
			}
		}
	}
}
