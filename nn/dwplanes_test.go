package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestDwPlanesRecordLayout checks the layout the assembly kernels read dwRun and dwRow2 with:
// five and four 8-byte words.
func TestDwPlanesRecordLayout(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 kernel (CPU, ODIN_KERNEL or purego)")
	}
	if unsafe.Sizeof(dwRun{}) != 40 || unsafe.Offsetof(dwRun{}.n) != 32 || unsafe.Sizeof(dwRow2{}) != 32 || unsafe.Offsetof(dwRow2{}.kh) != 24 {
		t.Fatalf("dwRun is %d bytes, dwRow2 %d: the kernels read 40 and 32", unsafe.Sizeof(dwRun{}), unsafe.Sizeof(dwRow2{}))
	}
}

// dwSpecials returns n values, mostly normal, with NaNs of several payloads (one signalling),
// signed zeros and infinities among them at the rate 1/every.
func dwSpecials(r *rand.Rand, n, every int, scale float64) []float32 {
	sp := []float32{
		math.Float32frombits(0x7fc01234), math.Float32frombits(0xffc00abc), math.Float32frombits(0x7f800001),
		0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	}
	v := randVec(r, n, scale)
	for i := range v {
		if r.IntN(every) == 0 {
			v[i] = sp[r.IntN(len(sp))]
		}
	}
	return v
}

// dwFlatCase is a flat geometry of a 3-wide kernel on side×side planes: kernel rows, vertical
// dilation, top, bottom and left padding (the right padding is 2 − pl, as flat requires).
type dwFlatCase struct{ kh, dy, pt, pb, pl int }

func (c dwFlatCase) geom(side int) dwGeom {
	d := dwGeom{sh: side, sw: side, kh: c.kh, kw: 3, sy: 1, sx: 1, dy: c.dy, dx: 1, pt: c.pt, pl: c.pl}
	d.dh, d.dw = side+c.pt+c.pb-(c.kh-1)*c.dy, side
	return d.withMask()
}

// TestDwPlanes3MatchesFlatPlane checks the whole-layer kernel (planes3) against flatPlane and the
// separate clip, plane by plane, bit for bit, on planes of 7×7 to 112×112 with NaNs, signed zeros
// and infinities in the inputs, weights, biases and (adding) the destination. The source starts
// right after or ends right before an inaccessible page, and so does the destination, so that a
// read of a masked tap outside the planes or a write past them crashes the test. It also checks
// against the Go loops, by value (NaN for NaN), as the vector kernels' NaN payloads may differ.
func TestDwPlanes3MatchesFlatPlane(t *testing.T) {
	if !hasAVX512 {
		d := dwFlatCase{3, 1, 1, 1, 1}.geom(7)
		if d.planes3(make([]float32, 49), make([]float32, 49), make([]float32, 9), []float32{0}, 1, 1, 49, 49, false, false, 0, 6) {
			t.Fatal("planes3 ran without AVX-512")
		}
		t.Skip("no AVX-512 kernel (CPU, ODIN_KERNEL or purego)")
	}
	r := rand.New(rand.NewPCG(91, 92))
	cases := []dwFlatCase{{3, 1, 1, 1, 1}, {3, 1, 0, 2, 0}, {3, 1, 2, 0, 2}, {1, 1, 0, 0, 1}, {2, 1, 0, 1, 1}, {5, 2, 3, 2, 1}}
	for _, side := range []int{7, 14, 28, 56, 112} {
		for ci, c := range cases {
			d := c.geom(side)
			if d.runs == nil {
				t.Fatalf("%+v on %d×%d: no runs", c, side, side)
			}
			for k := range 8 {
				atStart, add, act := k&1 != 0, k&2 != 0, k&4 != 0
				name := fmt.Sprintf("%dx%d/%+v/start=%v/add=%v/act=%v", side, side, c, atStart, add, act)
				checkPlanes(t, r, &d, name, atStart, add, act, (ci+k)%3 == 0, false)
			}
		}
	}
}

// checkPlanes runs planes3 (stride2: planes2) on three channels of two planes (channel strides
// with a gap) and compares every destination value with the per-plane code's (flatPlane, or
// stride2Rows through rowsPlane) bit for bit, and by value with the Go loops.
func checkPlanes(t *testing.T, r *rand.Rand, d *dwGeom, name string, atStart, add, act, oneBias, stride2 bool) {
	t.Helper()
	const nch, nb = 3, 2
	hw, ohw, k := d.sh*d.sw, d.dh*d.dw, d.kh*d.kw
	ldi, ldo := nb*hw+3, nb*ohw+5
	src := dwGuarded(t, (nch-1)*ldi+nb*hw, atStart)
	dst := dwGuarded(t, (nch-1)*ldo+nb*ohw, !atStart)
	copy(src, dwSpecials(r, len(src), 100, 3))
	copy(dst, dwSpecials(r, len(dst), 50, 3))
	w, bias := dwSpecials(r, nch*k, 40, 1), dwSpecials(r, nch, 4, 1)
	if oneBias {
		bias = bias[:1]
	}
	const lo, hi = 0, 6
	plane, ref := func(out, in, w []float32, b0 float32) { d.flatPlane(out, in, w, add, b0) }, "flatPlane"
	if stride2 {
		tmp := make([]float32, d.sh*(d.sw+2*d.pl+d.kw*d.dx+8))
		plane, ref = func(out, in, w []float32, b0 float32) { d.rowsPlane(out, in, w, tmp, b0) }, "stride2Rows"
	}
	want, goWant := append([]float32(nil), dst...), append([]float32(nil), dst...)
	planesRef(d, want, src, w, bias, nch, nb, ldi, ldo, act, lo, hi, plane)
	a2, a512 := hasAVX2, hasAVX512
	hasAVX2, hasAVX512 = false, false
	planesRef(d, goWant, src, w, bias, nch, nb, ldi, ldo, act, lo, hi, plane)
	hasAVX2, hasAVX512 = a2, a512
	ran := false
	if stride2 {
		ran = d.planes2(dst, src, w, bias, nch, nb, ldi, ldo, act, lo, hi)
	} else {
		ran = d.planes3(dst, src, w, bias, nch, nb, ldi, ldo, add, act, lo, hi)
	}
	if !ran {
		t.Fatalf("%s: the whole-layer kernel did not run", name)
	}
	for i := range dst {
		if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %v (%#x), %s %v (%#x)", name, i, dst[i], math.Float32bits(dst[i]), ref, want[i], math.Float32bits(want[i]))
		}
		if g := goWant[i]; dst[i] != g && !(g != g && dst[i] != dst[i]) {
			t.Fatalf("%s: value %d is %v, Go loops %v", name, i, dst[i], g)
		}
	}
}

// planesRef is planes3 (or planes2) plane by plane: plane on each (flatPlane or rowsPlane),
// then clip.
func planesRef(d *dwGeom, dst, src, w, bias []float32, nch, nb, ldi, ldo int, act bool, lo, hi float32,
	plane func(out, in, w []float32, bias float32)) {
	hw, ohw, k := d.sh*d.sw, d.dh*d.dw, d.kh*d.kw
	for c := range nch {
		b0 := bias[0]
		if len(bias) > 1 {
			b0 = bias[c]
		}
		for b := range nb {
			out := dst[c*ldo+b*ohw : c*ldo+(b+1)*ohw]
			plane(out, src[c*ldi+b*hw:c*ldi+(b+1)*hw], w[c*k:(c+1)*k], b0)
			if act {
				clip(out, out, lo, hi)
			}
		}
	}
}

// TestDwPlanes2MatchesStride2Rows checks the stride-2 whole-layer kernel (planes2) against
// stride2Rows and the separate clip, plane by plane, bit for bit, as TestDwPlanes3MatchesFlatPlane
// checks planes3: rows of at most 16 outputs with three taps (the path with lane masks computed
// once) and wider rows or other kernels, paddings on either side, dilations 1 and 2, odd sides
// (whose last output's taps leave the row on the right).
func TestDwPlanes2MatchesStride2Rows(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 kernel (CPU, ODIN_KERNEL or purego)")
	}
	r := rand.New(rand.NewPCG(95, 96))
	for _, side := range []int{7, 13, 14, 27, 28, 56, 112} {
		for _, c := range [][6]int{ // kh, kw, dil, top, left, bottom and right padding
			{3, 3, 1, 1, 1, 1}, {3, 3, 1, 0, 0, 1}, {3, 3, 1, 1, 2, 0}, {3, 3, 1, 1, 1, 2}, {3, 3, 2, 2, 2, 2}, {5, 5, 1, 2, 2, 2}, {2, 4, 1, 0, 1, 1},
		} {
			d := dwGeom{sh: side, sw: side, kh: c[0], kw: c[1], sy: 2, sx: 2, dy: c[2], dx: c[2], pt: c[3], pl: c[4]}
			d.dh = (side+c[3]+c[5]-c[2]*(c[0]-1)-1)/2 + 1
			d.dw = (side+c[4]+c[5]-c[2]*(c[1]-1)-1)/2 + 1
			if d = d.withMask(); d.rows2 == nil {
				t.Fatalf("%v on %d×%d: no rows", c, side, side)
			}
			for k := range 4 {
				atStart, act := k&1 != 0, k&2 != 0
				checkPlanes(t, r, &d, fmt.Sprintf("%dx%d/%v/start=%v/act=%v", side, side, c, atStart, act), atStart, false, act, k == 1, true)
			}
		}
	}
}

// TestDwPlanesLayerMatchesPlanePath runs depthwise layers (one and two outputs per channel,
// strides 1 and 2, biased or not, clamped or not, forward and backward) with the whole-layer
// kernels and again plane by plane (without runs and rows2), and wants the same outputs and input
// gradients bit for bit.
func TestDwPlanesLayerMatchesPlanePath(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 kernel (CPU, ODIN_KERNEL or purego)")
	}
	for _, tc := range []struct {
		mult, side, stride int
		pads               []int
		bias, clip         bool
	}{
		{1, 7, 1, []int{1, 1, 1, 1}, true, true},
		{2, 14, 1, []int{1, 1, 1, 1}, true, true},
		{1, 9, 1, []int{0, 1, 2, 1}, false, false},
		{2, 8, 1, []int{2, 0, 0, 2}, false, true},
		{1, 14, 2, []int{1, 1, 1, 1}, true, true},
		{2, 11, 2, []int{0, 1, 1, 0}, true, false},
		{1, 40, 2, []int{1, 1, 1, 1}, false, true},
	} {
		r := rand.New(rand.NewPCG(93, uint64(tc.side)))
		const cin, n = 5, 3
		b := NewBuilder(Shape{cin, tc.side, tc.side})
		c := Conv{Out: cin * tc.mult, KH: 3, KW: 3, Stride: tc.stride, Pads: tc.pads, Groups: cin, Weight: dwSpecials(r, cin*tc.mult*9, 60, 0.5)}
		if tc.bias {
			c.Bias = dwSpecials(r, cin*tc.mult, 10, 0.3)
		}
		y := b.Conv2d("c", b.Input(), c)
		if tc.clip {
			y = b.Clip(y, 0, 6)
		}
		g, err := b.Build(b.Linear("fc", b.GlobalAvgPool(y), 4, randVec(r, 4*cin*tc.mult, 0.3), nil))
		if err != nil {
			t.Fatal(err)
		}
		x := dwSpecials(r, n*g.Input().Size(), 300, 2)
		seed := randVec(r, n*4, 1)
		run := func() (vals [][]float32, grad []float32) {
			e := g.NewExec(n)
			if err := e.Forward(x, n); err != nil {
				t.Fatal(err)
			}
			grad, err := e.Backward("", seed, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range e.vals {
				vals = append(vals, append([]float32(nil), v...))
			}
			return vals, grad
		}
		v0, g0 := run()
		found := 0
		for _, st := range g.plan.steps {
			op := st.op
			if a, ok := op.(*activated); ok {
				op = a.inner
			}
			if gc, ok := op.(*gconv); ok && gc.depthwise {
				if (tc.stride == 1) != (gc.fgeo.runs != nil) || (tc.stride == 2) != (gc.fgeo.rows2 != nil) {
					t.Fatalf("%+v: forward runs %d, rows2 %d", tc, len(gc.fgeo.runs), len(gc.fgeo.rows2))
				}
				gc.fgeo.runs, gc.bgeo.runs, gc.fgeo.rows2 = nil, nil, nil
				found++
			}
		}
		if found != 1 {
			t.Fatalf("%+v: %d depthwise layers in the plan", tc, found)
		}
		v1, g1 := run()
		for i := range v0 {
			for j := range v0[i] {
				if math.Float32bits(v0[i][j]) != math.Float32bits(v1[i][j]) {
					t.Fatalf("%+v: value %d[%d] is %v with the layer kernel, %v plane by plane", tc, i, j, v0[i][j], v1[i][j])
				}
			}
		}
		for i := range g0 {
			if math.Float32bits(g0[i]) != math.Float32bits(g1[i]) {
				t.Fatalf("%+v: gradient %d is %v with the layer kernel, %v plane by plane", tc, i, g0[i], g1[i])
			}
		}
	}
}
