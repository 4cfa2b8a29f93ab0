package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// forKernels runs f as a subtest for each kernel, skipping, with the reason, those this CPU or
// build cannot run, so that an untested AVX-512 (or AVX2) path shows in the test output.
func forKernels(t *testing.T, f func(t *testing.T, kern kernelID)) {
	t.Helper()
	for _, k := range []kernelID{kernGo, kernAVX2, kernAVX512} {
		t.Run(k.String(), func(t *testing.T) {
			if why := whyNot(k); why != "" {
				t.Skipf("the %v kernel is not tested: %s", k, why)
			}
			f(t, k)
		})
	}
}

func TestChooseKernel(t *testing.T) {
	all := []kernelID{kernGo, kernAVX2, kernAVX512}
	for _, tt := range []struct {
		env   string
		avail []kernelID
		want  kernelID
		err   bool
	}{
		{"", all, kernAVX512, false},
		{"", all[:2], kernAVX2, false},
		{"avx2", all, kernAVX2, false},
		{"AVX2-FMA", all, kernAVX2, false},
		{"go", all, kernGo, false},
		{" avx512 ", all, kernAVX512, false},
		{"avx512", all[:2], kernAVX2, true},
		{"avx2", all[:1], kernGo, true},
		{"sse", all, kernAVX512, true},
	} {
		got, err := chooseKernel(tt.env, tt.avail)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("chooseKernel(%q, %v) = %v, %v; want %v, error %v", tt.env, tt.avail, got, err, tt.want, tt.err)
		}
	}
	want, werr := chooseKernel(os.Getenv(KernelEnv), supportedKernels())
	if got := Kernel(); got != want.String() || (KernelEnvError() == nil) != (werr == nil) {
		t.Errorf("Kernel() = %q (error %v), want %q (error %v) for %s=%q", got, KernelEnvError(), want, werr, KernelEnv, os.Getenv(KernelEnv))
	}
}

// TestAVX512MatchesAVX2 checks the claim that the AVX-512 kernels compute the AVX2 kernels'
// bits: Mul with and without a row operation, MulPanels and MulGrad, over edge shapes.
func TestAVX512MatchesAVX2(t *testing.T) {
	for _, k := range []kernelID{kernAVX2, kernAVX512} {
		if why := whyNot(k); why != "" {
			t.Skipf("AVX-512 against AVX2 not tested: %s", why)
		}
	}
	rng := rand.New(rand.NewPCG(21, 22))
	w2, w5 := &Workspace{kern: kernAVX2}, &Workspace{kern: kernAVX512}
	for it := range 80 {
		m := edgeM[rng.IntN(len(edgeM))]
		n := edgeN[rng.IntN(len(edgeN))]
		k := edgeK[rng.IntN(len(edgeK))]
		if it%3 == 0 {
			k = min(k, kcMax) // MulGrad's one block
		}
		tc := newCase(rng, m, n, k)
		specials := []float32{float32(math.Copysign(0, -1)), 0, 1e-42, float32(math.Inf(1)), 3e38}
		for range len(tc.b)/97 + 1 {
			tc.b[rng.IntN(len(tc.b))] = specials[rng.IntN(len(specials))]
		}
		pa := Pack(m, k, tc.a, tc.lda)
		c2, c5 := append([]float32(nil), tc.c0...), append([]float32(nil), tc.c0...)
		pa.Mul(c2, tc.ldc, tc.b, tc.ldb, n, tc.op, tc.acc, w2)
		pa.Mul(c5, tc.ldc, tc.b, tc.ldb, n, tc.op, tc.acc, w5)
		sameAll(t, fmt.Sprintf("Mul %v", tc), c5, c2)
		if pa.OneBlock() {
			x := randSlice(rng, len(tc.c0))
			op := &RowOp{Scale: randSlice(rng, m), Shift: randSlice(rng, m), ReLU: it%2 == 0}
			c2, c5 = append(c2[:0], tc.c0...), append(c5[:0], tc.c0...)
			pa.MulGrad(c2, tc.ldc, tc.b, tc.ldb, n, op, x, w2)
			pa.MulGrad(c5, tc.ldc, tc.b, tc.ldb, n, op, x, w5)
			sameAll(t, fmt.Sprintf("MulGrad %v relu=%v", tc, op.ReLU), c5, c2)
		}
		bp := toPanels(tc.b, tc.ldb, k, n)
		c2, c5 = append(c2[:0], tc.c0...), append(c5[:0], tc.c0...)
		pa.MulPanels(c2, tc.ldc, bp, n, tc.acc, w2)
		pa.MulPanels(c5, tc.ldc, bp, n, tc.acc, w5)
		sameAll(t, fmt.Sprintf("MulPanels %v", tc), c5, c2)
	}
}

func sameAll(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: element %d = %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// toPanels writes B (k×n, row stride ldb) in MulPanels' layout.
func toPanels(b []float32, ldb, k, n int) []float32 {
	bp := make([]float32, (n+PanelWidth-1)/PanelWidth*k*PanelWidth)
	for p := range k {
		for j := range n {
			bp[(j/PanelWidth)*k*PanelWidth+p*PanelWidth+j%PanelWidth] = b[p*ldb+j]
		}
	}
	return bp
}

// TestBatchComposition is the scoring service's guarantee: a column of C (one image's output)
// has the same bits whichever other columns share the product, wherever it sits among them
// (a full tile or an edge tile), for Mul with a row operation, MulPanels and MulGrad, with
// each kernel.
func TestBatchComposition(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) {
		rng := rand.New(rand.NewPCG(31, uint64(kern)))
		ws := &Workspace{kern: kern}
		for _, s := range []struct{ m, k int }{{48, 216}, {12, 48}, {13, 5}, {120, 48}, {30, 800}} {
			a := Pack(s.m, s.k, randSlice(rng, s.m*s.k), s.k)
			col := randSlice(rng, s.k) // the column under test
			x := randSlice(rng, s.m)   // and its rows of X and C, for MulGrad
			c0 := randSlice(rng, s.m)
			op := &RowOp{Scale: randSlice(rng, s.k), Shift: randSlice(rng, s.k), ReLU: true}
			gop := &RowOp{Scale: randSlice(rng, s.m), Shift: randSlice(rng, s.m), ReLU: true}
			var ref [3][]float32 // Mul, MulPanels, MulGrad of the column alone
			for trial := range 6 {
				n, j := 1, 0
				if trial > 0 {
					n = 1 + rng.IntN(3*nr+5)
					j = rng.IntN(n)
					if trial == 1 {
						j = n - 1 // the last column: an edge tile unless n is a multiple of nr
					}
				}
				b := randSlice(rng, s.k*n) // new neighbours every time
				for p := range s.k {
					b[p*n+j] = col[p]
				}
				cx, xx := randSlice(rng, s.m*n), randSlice(rng, s.m*n)
				for i := range s.m {
					cx[i*n+j], xx[i*n+j] = c0[i], x[i]
				}
				var got [3][]float32
				c := append([]float32(nil), cx...)
				a.Mul(c, n, b, n, n, op, true, ws)
				got[0] = column(c, n, j, s.m)
				c = append(c[:0], cx...)
				a.MulPanels(c, n, toPanels(b, n, s.k, n), n, true, ws)
				got[1] = column(c, n, j, s.m)
				if a.OneBlock() {
					c = append(c[:0], cx...)
					a.MulGrad(c, n, b, n, n, gop, xx, ws)
					got[2] = column(c, n, j, s.m)
				}
				if trial == 0 {
					ref = got
					continue
				}
				for f, name := range []string{"Mul", "MulPanels", "MulGrad"} {
					sameAll(t, fmt.Sprintf("%s M=%d K=%d: column %d of %d against the column alone", name, s.m, s.k, j, n), got[f], ref[f])
				}
			}
		}
	})
}

func column(c []float32, ldc, j, m int) []float32 {
	out := make([]float32, m)
	for i := range m {
		out[i] = c[i*ldc+j]
	}
	return out
}

// TestWorkersBitIdentical splits the columns of one product among goroutines, as the engine
// splits a batch among workers, and checks the bits against one call, for each kernel.
func TestWorkersBitIdentical(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, s := range []struct{ m, k, n int }{{48, 216, 1024 + 37}, {12, 432, 300}, {200, 48, 777}} {
			a := Pack(s.m, s.k, randSlice(rng, s.m*s.k), s.k)
			b := randSlice(rng, s.k*s.n)
			op := &RowOp{Scale: randSlice(rng, s.k), Shift: randSlice(rng, s.k), ReLU: true}
			want := make([]float32, s.m*s.n)
			a.Mul(want, s.n, b, s.n, s.n, op, false, &Workspace{kern: kern})
			for _, workers := range []int{2, 3, 7} {
				got := make([]float32, s.m*s.n)
				var wg sync.WaitGroup
				for w := range workers {
					j0, j1 := w*s.n/workers, (w+1)*s.n/workers
					wg.Go(func() {
						a.Mul(got[j0:], s.n, b[j0:], s.n, j1-j0, op, false, &Workspace{kern: kern})
					})
				}
				wg.Wait()
				sameAll(t, fmt.Sprintf("M=%d K=%d n=%d, %d workers", s.m, s.k, s.n, workers), got, want)
			}
		}
	})
}

// TestKernelPack4Matches checks the four-panel packing kernel against packGo and the one-panel
// kernel, bit for bit, with every mix of row operation and beta.
func TestKernelPack4Matches(t *testing.T) {
	if why := whyNot(kernAVX512); why != "" {
		t.Skipf("the four-panel packing kernel is AVX-512 only: %s", why)
	}
	rng := rand.New(rand.NewPCG(51, 52))
	specials := []float32{float32(math.Copysign(0, -1)), 0, 1e-42, -1e-42, float32(math.NaN()), float32(math.Inf(-1)), 3e38}
	for _, kb := range []int{1, 3, 4, 5, 48, kcMax} {
		ldb := nr + rng.IntN(9)
		src := randSlice(rng, (kb-1)*ldb+nr)
		for range len(src) / 5 {
			src[rng.IntN(len(src))] = specials[rng.IntN(len(specials))]
		}
		ak := kb*mr + 6*rng.IntN(3) // panels of a longer K, as Pack lays them out
		a := randSlice(rng, 3*ak+kb*mr)
		ldc := nr + 2
		c0 := randSlice(rng, (4*mr-1)*ldc+nr)
		scale, shift := randSlice(rng, kb), randSlice(rng, kb)
		for mask := range 16 {
			var sc, sh []float32
			if mask&1 != 0 {
				sc = scale
			}
			if mask&2 != 0 {
				sh = shift
			}
			relu, beta := mask&4 != 0, mask&8 != 0
			gotB, wantB := make([]float32, kb*nr), make([]float32, kb*nr)
			gotC, wantC := append([]float32(nil), c0...), append([]float32(nil), c0...)
			if !kernelPack4(kernAVX512, kb, a, ak, src, ldb, gotB, gotC, ldc, beta, sc, sh, relu, uintptr(unsafe.Pointer(&src[0]))) {
				t.Fatal("kernelPack4 declined the AVX-512 kernel")
			}
			packGo(wantB, src, ldb, kb, nr, sc, sh, relu)
			for r := range 4 {
				kernel(kernAVX2, kb, a[r*ak:], wantB, wantC[r*mr*ldc:], ldc, beta)
			}
			sameAll(t, fmt.Sprintf("kb=%d mask=%d: packed B", kb, mask), gotB, wantB)
			sameAll(t, fmt.Sprintf("kb=%d mask=%d: C", kb, mask), gotC, wantC)
		}
	}
}

// TestKernelEnvForces runs this test binary again with KernelEnv set, to check that the
// variable chooses the kernel of a whole process from its start.
func TestKernelEnvForces(t *testing.T) {
	if os.Getenv("GEMM_TEST_CHILD") != "" {
		fmt.Printf("kernel=%s\n", Kernel())
		return
	}
	for _, k := range []kernelID{kernGo, kernAVX2, kernAVX512} {
		if whyNot(k) != "" {
			continue
		}
		name := map[kernelID]string{kernGo: "go", kernAVX2: "avx2", kernAVX512: "avx512"}[k]
		cmd := exec.Command(os.Args[0], "-test.run=^TestKernelEnvForces$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GEMM_TEST_CHILD=1", KernelEnv+"="+name)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s=%s: %v\n%s", KernelEnv, name, err, out)
		}
		t.Logf("%s=%s: %q", KernelEnv, name, out)
		if want := "kernel=" + k.String() + "\n"; !strings.Contains(string(out), want) {
			t.Errorf("%s=%s: the child says %q, want %q", KernelEnv, name, out, want)
		}
	}
}
