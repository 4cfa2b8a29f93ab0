package gemm

// TransposeInto returns Aᵀ packed, in t's storage when it holds enough (t may be nil). It reads
// A's panels, so a layer that needs both A and Aᵀ keeps one packed copy: transposing costs a
// pass over A, which for a wide layer is far less than keeping a second copy resident. Products
// with the result are those of Pack(Aᵀ) bit for bit.
func (a *Packed) TransposeInto(t *Packed) *Packed {
	m, k := a.M, a.K // Aᵀ is k×m
	need := (k + mr - 1) / mr * m * mr
	if t == nil || cap(t.data) < need {
		t = &Packed{data: alignedFloats(need)}
	}
	t.M, t.K, t.kc, t.data = k, m, blockK(m), t.data[:need]
	// Row r of column panel kp of Aᵀ is column kp·mr+r of A; A's panel cp holds, for column j,
	// its rows cp·mr … cp·mr+mr−1 at j·mr. So each mr×mr block is a transpose of mr·mr
	// consecutive values into mr·mr consecutive values.
	full := k / mr // column panels of Aᵀ with mr rows of A's columns each
	for cp := 0; cp*mr < m; cp++ {
		src := a.data[cp*k*mr : (cp+1)*k*mr]
		rows := min(mr, m-cp*mr)
		for kp := range full {
			s := (*[mr * mr]float32)(src[kp*mr*mr:])
			d := t.data[kp*m*mr+cp*mr*mr:]
			if rows == mr {
				transpose6((*[mr * mr]float32)(d), s)
				continue
			}
			for r := range rows {
				for c := range mr {
					d[r*mr+c] = s[c*mr+r]
				}
			}
		}
		if cols := k - full*mr; cols > 0 {
			dst := t.data[full*m*mr+cp*mr*mr:]
			for r := range rows {
				d := dst[r*mr : r*mr+mr]
				for c := range cols {
					d[c] = src[(full*mr+c)*mr+r]
				}
				clear(d[cols:])
			}
		}
	}
	return t
}

// transpose6 writes the transpose of the mr×mr block s into d, with constant indices.
func transpose6(d, s *[mr * mr]float32) {
	for r := range mr {
		d[r*mr+0], d[r*mr+1], d[r*mr+2] = s[0*mr+r], s[1*mr+r], s[2*mr+r]
		d[r*mr+3], d[r*mr+4], d[r*mr+5] = s[3*mr+r], s[4*mr+r], s[5*mr+r]
	}
}
