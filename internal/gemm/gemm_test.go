package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// randOp returns nil or a RowOp with a random mix of scale, shift and ReLU.
func randOp(rng *rand.Rand, k int) *RowOp {
	if rng.IntN(3) == 0 {
		return nil
	}
	op := &RowOp{ReLU: rng.IntN(2) == 0}
	if rng.IntN(3) > 0 {
		op.Scale = randSlice(rng, k)
	}
	if rng.IntN(3) > 0 {
		op.Shift = randSlice(rng, k)
	}
	return op
}

// applyOp returns op(B) as a dense k×n matrix (row stride n), using RowOp's definition.
func applyOp(b []float32, ldb, k, n int, op *RowOp) []float32 {
	out := make([]float32, k*n)
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			v := b[p*ldb+j]
			if op != nil {
				if op.Scale != nil {
					v = float32(v * op.Scale[p])
				}
				if op.Shift != nil {
					v = float32(v + op.Shift[p])
				}
				if op.ReLU && v < 0 {
					v = 0
				}
			}
			out[p*n+j] = v
		}
	}
	return out
}

type mulCase struct {
	m, n, k       int
	lda, ldb, ldc int
	acc           bool
	op            *RowOp
	a, b, c0      []float32
}

func newCase(rng *rand.Rand, m, n, k int) *mulCase {
	tc := &mulCase{m: m, n: n, k: k, lda: k, ldb: n, ldc: n, acc: rng.IntN(2) == 0, op: randOp(rng, k)}
	if rng.IntN(2) == 0 {
		tc.lda += rng.IntN(5)
		tc.ldb += 1 + rng.IntN(20)
		tc.ldc += 1 + rng.IntN(20)
	}
	tc.a = randSlice(rng, max(0, (m-1)*tc.lda+k))
	tc.b = randSlice(rng, max(0, (k-1)*tc.ldb+n))
	tc.c0 = randSlice(rng, max(0, (m-1)*tc.ldc+n))
	return tc
}

func (tc *mulCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d lda=%d ldb=%d ldc=%d acc=%v op=%v", tc.m, tc.n, tc.k, tc.lda, tc.ldb, tc.ldc, tc.acc, opString(tc.op))
}

func opString(op *RowOp) string {
	if op == nil {
		return "nil"
	}
	return fmt.Sprintf("{scale:%v shift:%v relu:%v}", op.Scale != nil, op.Shift != nil, op.ReLU)
}

// roundingBound is the float32 error bound every kernel meets for one element of C summed over
// k products in blocks (plus C's previous value): each term passes through at most
// k + blocks + 1 roundings of relative size u = 2⁻²⁴ (one per fused multiply-add or per add,
// one per block sum added to C, one for the Go kernel's rounded product), so
// |C − exact| ≤ (k + blocks + 1)·u·(1+ε)·(Σ|a||b'| + |c0|), ε covering the second-order terms.
func roundingBound(k int, mag float64) float64 {
	blocks := (k + kcMax - 1) / kcMax
	return 1.01 * float64(k+blocks+1) * 0x1p-24 * mag
}

// checkClose compares got (M×n, stride ldc) with a float64 reference of c0·[acc] + A·op(B),
// allowing roundingBound per element.
func (tc *mulCase) checkClose(t *testing.T, what string, got []float32) {
	t.Helper()
	bop := applyOp(tc.b, tc.ldb, tc.k, tc.n, tc.op)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s, mag float64
			for p := 0; p < tc.k; p++ {
				x := float64(tc.a[i*tc.lda+p]) * float64(bop[p*tc.n+j])
				s += x
				mag += math.Abs(x)
			}
			if tc.acc {
				c := float64(tc.c0[i*tc.ldc+j])
				s += c
				mag += math.Abs(c)
			}
			g := float64(got[i*tc.ldc+j])
			if d, bound := math.Abs(g-s), roundingBound(tc.k, mag); d > bound || math.IsNaN(g) {
				t.Fatalf("%s %v: C[%d][%d] = %g, want %g (|diff| %.3g, bound %.3g)", what, tc, i, j, g, s, d, bound)
			}
		}
	}
}

func (tc *mulCase) run(ws *Workspace) []float32 {
	c := append([]float32(nil), tc.c0...)
	Pack(tc.m, tc.k, tc.a, tc.lda).Mul(c, tc.ldc, tc.b, tc.ldb, tc.n, tc.op, tc.acc, ws)
	return c
}

// checkPadding asserts that the gaps between rows of C (ldc > n) were not written.
func (tc *mulCase) checkPadding(t *testing.T, got []float32) {
	t.Helper()
	for i := 0; i < tc.m-1; i++ {
		for j := tc.n; j < tc.ldc; j++ {
			if o := i*tc.ldc + j; math.Float32bits(got[o]) != math.Float32bits(tc.c0[o]) {
				t.Fatalf("%v: C padding [%d][%d] changed from %g to %g", tc, i, j, tc.c0[o], got[o])
			}
		}
	}
}

var (
	edgeM = []int{1, 2, mr - 1, mr, mr + 1, 11, 12, 13, 47, 48, 49, mcMax - 1, mcMax + 1, 2*mcMax + 5}
	edgeN = []int{1, 2, nr - 1, nr, nr + 1, 33, 64, 65, ncMax - 1, ncMax + nr + 3}
	edgeK = []int{1, 2, 3, 5, 24, kcMax - 1, kcMax, kcMax + 1, 432, 2*kcMax + 7}
)

func TestMulMatchesReference(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testMulMatchesReference(t, kern) })
}

func testMulMatchesReference(t *testing.T, kern kernelID) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := &Workspace{kern: kern}
	for it := 0; it < 150; it++ {
		m := edgeM[rng.IntN(len(edgeM))]
		n := edgeN[rng.IntN(len(edgeN))]
		k := edgeK[rng.IntN(len(edgeK))]
		for m*n*k > 4e6 { // keep the float64 reference quick
			n = max(1, n/3)
		}
		tc := newCase(rng, m, n, k)
		got := tc.run(ws)
		tc.checkClose(t, "Mul", got)
		tc.checkPadding(t, got)

		if tc.op == nil {
			naive := append([]float32(nil), tc.c0...)
			MulNaive(m, n, k, tc.a, tc.lda, tc.b, tc.ldb, naive, tc.ldc, tc.acc)
			tc.checkClose(t, "MulNaive", naive)
		}
	}
}

// TestMulMatchesNaiveSmall pins small integer-valued products, which every kernel computes
// exactly, to MulNaive bit for bit.
func TestMulMatchesNaiveSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 100; it++ {
		m, n, k := 1+rng.IntN(20), 1+rng.IntN(40), 1+rng.IntN(300)
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.IntN(9) - 4)
		}
		for i := range b {
			b[i] = float32(rng.IntN(9) - 4)
		}
		got := make([]float32, m*n)
		want := make([]float32, m*n)
		Pack(m, k, a, k).Mul(got, n, b, n, n, nil, false, nil)
		MulNaive(m, n, k, a, k, b, n, want, n, false)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("m=%d n=%d k=%d: C[%d] = %g, want %g", m, n, k, i, got[i], want[i])
			}
		}
	}
}

func sameBits(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
}

// TestColumnDeterminism checks the central guarantee: a column of C depends only on A, that
// column of B and K, not on n, the column's position, the strides or the other columns.
func TestColumnDeterminism(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testColumnDeterminism(t, kern) })
}

func testColumnDeterminism(t *testing.T, kern kernelID) {
	rng := rand.New(rand.NewPCG(5, 6))
	ws := &Workspace{kern: kern}
	for it := 0; it < 60; it++ {
		m := 1 + rng.IntN(60)
		if it%10 == 0 {
			m = mcMax + 1 + rng.IntN(60)
		}
		k := 1 + rng.IntN(3*kcMax)
		n := 1 + rng.IntN(200)
		if it%7 == 0 {
			n = ncMax + 1 + rng.IntN(100)
		}
		tc := newCase(rng, m, n, k)
		if it%4 == 0 { // awkward values: signed zeros, subnormals, NaN, huge
			specials := []float32{float32(math.Copysign(0, -1)), 0, 1e-42, -1e-42, float32(math.NaN()), 3e38, -3e38}
			for i := 0; i < len(tc.b)/50+1; i++ {
				tc.b[rng.IntN(len(tc.b))] = specials[rng.IntN(len(specials))]
			}
		}
		pa := Pack(m, k, tc.a, tc.lda)
		full := append([]float32(nil), tc.c0...)
		pa.Mul(full, tc.ldc, tc.b, tc.ldb, n, tc.op, tc.acc, ws)

		// Columns cols[0..w) of B, gathered into a fresh B with stride ldb2, in that order.
		subset := func(what string, cols []int, ldb2, ldc2 int) {
			w := len(cols)
			b2 := make([]float32, (k-1)*ldb2+w)
			c2 := make([]float32, (m-1)*ldc2+w)
			for x, j := range cols {
				for p := 0; p < k; p++ {
					b2[p*ldb2+x] = tc.b[p*tc.ldb+j]
				}
				for i := 0; i < m; i++ {
					c2[i*ldc2+x] = tc.c0[i*tc.ldc+j]
				}
			}
			pa.Mul(c2, ldc2, b2, ldb2, w, tc.op, tc.acc, ws)
			for x, j := range cols {
				for i := 0; i < m; i++ {
					if g, f := c2[i*ldc2+x], full[i*tc.ldc+j]; !sameBits(g, f) {
						t.Fatalf("%v: %s: column %d row %d: %g (%#x) alone, %g (%#x) in the full product",
							tc, what, j, i, g, math.Float32bits(g), f, math.Float32bits(f))
					}
				}
			}
		}
		for range 3 {
			subset("single column", []int{rng.IntN(n)}, 1, 1)
		}
		j0 := rng.IntN(n)
		j1 := j0 + 1 + rng.IntN(n-j0)
		var run []int
		for j := j0; j < j1; j++ {
			run = append(run, j)
		}
		subset("column range", run, len(run)+rng.IntN(40), len(run)+rng.IntN(40))
		perm := rng.Perm(n)[:1+rng.IntN(n)]
		subset("shuffled columns", perm, len(perm)+3, len(perm))

		// Sliding the same window by one column moves every column to another position in its panel.
		if j1 < n {
			c2 := append([]float32(nil), tc.c0...)
			pa.Mul(c2[j0+1:], tc.ldc, tc.b[j0+1:], tc.ldb, j1-j0, tc.op, tc.acc, ws)
			for i := 0; i < m; i++ {
				for j := j0 + 1; j <= j1; j++ {
					if g, f := c2[i*tc.ldc+j], full[i*tc.ldc+j]; !sameBits(g, f) {
						t.Fatalf("%v: shifted window: C[%d][%d] %g, full %g", tc, i, j, g, f)
					}
				}
			}
		}
	}
}

// TestRowOpExact multiplies by the identity, so C must equal op(B) exactly.
func TestRowOpExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 7, 48, kcMax + 3} {
		n := 1 + rng.IntN(80)
		id := make([]float32, k*k)
		for i := 0; i < k; i++ {
			id[i*k+i] = 1
		}
		pa := Pack(k, k, id, k)
		b := randSlice(rng, k*n)
		b[0] = float32(math.Copysign(0, -1))
		b[len(b)-1] = 1e-42
		for _, op := range []*RowOp{
			nil,
			{ReLU: true},
			{Scale: randSlice(rng, k)},
			{Shift: randSlice(rng, k)},
			{Scale: randSlice(rng, k), Shift: randSlice(rng, k), ReLU: true},
		} {
			c := make([]float32, k*n)
			pa.Mul(c, n, b, n, n, op, false, nil)
			want := applyOp(b, n, k, n, op)
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("k=%d n=%d op=%v: C[%d] = %g, want %g", k, n, opString(op), i, c[i], want[i])
				}
			}
		}
	}
}

func TestDegenerate(t *testing.T) {
	ws := NewWorkspace()
	// K = 0: C = 0 or unchanged.
	pa := Pack(3, 0, nil, 0)
	c := []float32{1, 2, 3, 4, 5, 6}
	pa.Mul(c, 2, nil, 0, 2, nil, true, ws)
	if c[0] != 1 || c[5] != 6 {
		t.Fatalf("K=0 acc: C changed to %v", c)
	}
	pa.Mul(c, 2, nil, 0, 2, nil, false, ws)
	for i, v := range c {
		if v != 0 {
			t.Fatalf("K=0: C[%d] = %g, want 0", i, v)
		}
	}
	// M = 0 and n = 0 touch nothing.
	Pack(0, 5, nil, 5).Mul(nil, 0, make([]float32, 5), 1, 1, nil, false, ws)
	Pack(2, 2, []float32{1, 2, 3, 4}, 2).Mul(nil, 0, nil, 0, 0, nil, false, ws)
}

func TestZeroAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ m, k, n int }{{12, 432, 64}, {48, 216, 1024 + 5}, {mcMax + 7, 300, 70}} {
		pa := Pack(s.m, s.k, randSlice(rng, s.m*s.k), s.k)
		b := randSlice(rng, s.k*s.n)
		c := make([]float32, s.m*s.n)
		op := &RowOp{Scale: randSlice(rng, s.k), Shift: randSlice(rng, s.k), ReLU: true}
		ws := NewWorkspace()
		pa.Mul(c, s.n, b, s.n, s.n, op, false, ws) // grows ws
		allocs := testing.AllocsPerRun(5, func() {
			pa.Mul(c, s.n, b, s.n, s.n, op, true, ws)
			pa.Mul(c, s.n, b, s.n, s.n/2+1, nil, false, ws)
		})
		if allocs != 0 {
			t.Errorf("M=%d K=%d n=%d: %v allocations per Mul pair, want 0", s.m, s.k, s.n, allocs)
		}
	}
}

func TestProgrammerErrorsPanic(t *testing.T) {
	pa := Pack(2, 3, make([]float32, 6), 3)
	for _, tt := range []struct {
		name, want string
		f          func()
	}{
		{"Pack lda", "lda=2 < k=3", func() { Pack(2, 3, make([]float32, 6), 2) }},
		{"Pack short", "len(a)=5, need 6", func() { Pack(2, 3, make([]float32, 5), 3) }},
		{"Pack negative", "negative dimension", func() { Pack(-1, 3, nil, 3) }},
		{"short b", "len(b)=11, need 12", func() { pa.Mul(make([]float32, 8), 4, make([]float32, 11), 4, 4, nil, false, nil) }},
		{"short c", "len(c)=7, need 8", func() { pa.Mul(make([]float32, 7), 4, make([]float32, 12), 4, 4, nil, false, nil) }},
		{"ldb", "ldb=3 < n=4", func() { pa.Mul(make([]float32, 8), 4, make([]float32, 12), 3, 4, nil, false, nil) }},
		{"ldc", "ldc=3 < n=4", func() { pa.Mul(make([]float32, 8), 3, make([]float32, 12), 4, 4, nil, false, nil) }},
		{"negative n", "negative n", func() { pa.Mul(nil, 0, nil, 0, -1, nil, false, nil) }},
		{"scale", "len(op.Scale)=2 < K=3", func() {
			pa.Mul(make([]float32, 8), 4, make([]float32, 12), 4, 4, &RowOp{Scale: make([]float32, 2)}, false, nil)
		}},
		{"shift", "len(op.Shift)=1 < K=3", func() {
			pa.Mul(make([]float32, 8), 4, make([]float32, 12), 4, 4, &RowOp{Shift: make([]float32, 1)}, false, nil)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "gemm: ") || !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %v, want a gemm panic containing %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}

func TestBlockK(t *testing.T) {
	for _, k := range []int{1, 100, kcMax, kcMax + 1, 432, 1440, 5760} {
		kc := blockK(k)
		nb := (k + kc - 1) / kc
		if kc > kcMax || nb != (k+kcMax-1)/kcMax {
			t.Errorf("blockK(%d) = %d: %d blocks, want blocks of at most %d and as few as possible", k, kc, nb, kcMax)
		}
	}
}

// TestKernelPackMatches checks that the fused pack-and-multiply kernel packs exactly what packGo
// packs (bit for bit, including NaN, signed zeros and subnormals) and multiplies exactly like
// the plain kernel: full panels (packed by kernelPack) and edge panels (packed by packGo) must
// behave identically.
func TestKernelPackMatches(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testKernelPackMatches(t, kern) })
}

func testKernelPackMatches(t *testing.T, kern kernelID) {
	rng := rand.New(rand.NewPCG(11, 12))
	specials := []float32{float32(math.Copysign(0, -1)), 0, 1e-42, -1e-42, float32(math.NaN()), float32(math.Inf(-1)), 3e38}
	for _, kb := range []int{1, 2, 3, 4, 5, 17, kcMax} {
		ldb := nr + rng.IntN(9)
		src := randSlice(rng, (kb-1)*ldb+nr)
		for i := 0; i < len(src)/5; i++ {
			src[rng.IntN(len(src))] = specials[rng.IntN(len(specials))]
		}
		a := randSlice(rng, kb*mr)
		ldc := nr + 2
		c0 := randSlice(rng, (mr-1)*ldc+nr)
		scale, shift := randSlice(rng, kb), randSlice(rng, kb)
		scale[0], shift[0] = float32(math.Copysign(0, -1)), 0
		for mask := 0; mask < 16; mask++ {
			var sc, sh []float32
			if mask&1 != 0 {
				sc = scale
			}
			if mask&2 != 0 {
				sh = shift
			}
			relu, beta := mask&4 != 0, mask&8 != 0
			gotB := make([]float32, kb*nr)
			wantB := make([]float32, kb*nr)
			gotC := append([]float32(nil), c0...)
			wantC := append([]float32(nil), c0...)
			kernelPack(kern, kb, a, src, ldb, gotB, gotC, ldc, beta, sc, sh, relu, uintptr(unsafe.Pointer(&src[0])))
			packGo(wantB, src, ldb, kb, nr, sc, sh, relu)
			kernel(kern, kb, a, wantB, wantC, ldc, beta)
			for i := range gotB {
				if math.Float32bits(gotB[i]) != math.Float32bits(wantB[i]) {
					t.Fatalf("kb=%d mask=%d: packed[%d] = %#x, want %#x", kb, mask, i, math.Float32bits(gotB[i]), math.Float32bits(wantB[i]))
				}
			}
			for i := range gotC {
				if !sameBits(gotC[i], wantC[i]) {
					t.Fatalf("kb=%d mask=%d: C[%d] = %g, kernel gives %g", kb, mask, i, gotC[i], wantC[i])
				}
			}
		}
	}
}

// TestKernelMatchesGo compares each micro-kernel with the portable one on one tile.
func TestKernelMatchesGo(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testKernelMatchesGo(t, kern) })
}

func testKernelMatchesGo(t *testing.T, kern kernelID) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, k := range []int{1, 3, 4, 5, 8, 255} {
		for _, beta := range []bool{false, true} {
			a, b := randSlice(rng, k*mr), randSlice(rng, k*nr)
			ldc := nr + 3
			c0 := randSlice(rng, (mr-1)*ldc+nr)
			got := append([]float32(nil), c0...)
			want := append([]float32(nil), c0...)
			kernel(kern, k, a, b, got, ldc, beta)
			kernelGo(k, a, b, want, ldc, beta)
			for i := range got {
				if i%ldc >= nr {
					if got[i] != c0[i] {
						t.Fatalf("k=%d beta=%v: wrote outside the tile at %d", k, beta, i)
					}
					continue
				}
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*float64(k+1) {
					t.Fatalf("k=%d beta=%v: c[%d] = %g, Go kernel %g", k, beta, i, got[i], want[i])
				}
			}
		}
	}
}
