package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMulGradMatchesMulThenMask checks MulGrad bit for bit against the product stored by Mul and
// then passed through the row operation's backward pass element by element (vec.BNGrad's
// arithmetic), with full and edge tiles, with and without ReLU, scale or shift.
func TestMulGradMatchesMulThenMask(t *testing.T) {
	forKernels(t, func(t *testing.T, kern kernelID) { testMulGradMatchesMulThenMask(t, kern) })
}

func testMulGradMatchesMulThenMask(t *testing.T, kern kernelID) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sh := range []struct{ m, k, n int }{{6, 48, 16}, {120, 48, 200}, {13, 5, 37}, {216, 48, 1040}, {7, 1, 3}} {
		for _, op := range []*RowOp{
			{Scale: randSlice(rng, sh.m), Shift: randSlice(rng, sh.m), ReLU: true},
			{Scale: randSlice(rng, sh.m), Shift: randSlice(rng, sh.m)},
			{Scale: randSlice(rng, sh.m), ReLU: true},
			{ReLU: true},
			nil,
		} {
			t.Run(fmt.Sprintf("M%d_K%d_N%d_%s", sh.m, sh.k, sh.n, opString(op)), func(t *testing.T) {
				ldc := sh.n + 3
				a := Pack(sh.m, sh.k, randSlice(rng, sh.m*sh.k), sh.k)
				b := randSlice(rng, sh.k*sh.n)
				x := randSlice(rng, sh.m*ldc)
				c0 := randSlice(rng, sh.m*ldc)
				c0[0] = 0 // a zero that a masked-out element must keep as it is
				got := append([]float32(nil), c0...)
				a.MulGrad(got, ldc, b, sh.n, sh.n, op, x, &Workspace{kern: kern})

				prod := make([]float32, sh.m*ldc)
				a.Mul(prod, ldc, b, sh.n, sh.n, nil, false, &Workspace{kern: kern})
				want := append([]float32(nil), c0...)
				for i := range sh.m {
					s, sft, relu := float32(1), float32(0), false
					if op != nil {
						relu = op.ReLU
						if op.Scale != nil {
							s = op.Scale[i]
						}
						if op.Shift != nil {
							sft = op.Shift[i]
						}
					}
					for j := range sh.n {
						if relu && !(x[i*ldc+j]*s+sft > 0) {
							continue
						}
						want[i*ldc+j] += prod[i*ldc+j] * s
					}
				}
				for i := range want {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("element (%d, %d): got %v, want %v", i/ldc, i%ldc, got[i], want[i])
					}
				}
			})
		}
	}
}

func TestMulGradRefusesTwoBlocks(t *testing.T) {
	a := Pack(6, kcMax+1, make([]float32, 6*(kcMax+1)), kcMax+1)
	if a.OneBlock() {
		t.Fatal("K beyond one block reported as one block")
	}
	defer func() {
		if recover() == nil {
			t.Error("MulGrad on two K blocks did not panic")
		}
	}()
	a.MulGrad(make([]float32, 6*16), 16, make([]float32, (kcMax+1)*16), 16, 16, nil, make([]float32, 6*16), nil)
}
