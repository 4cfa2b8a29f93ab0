package gemm_test

import (
	"fmt"

	"github.com/odin-ood/odin/internal/gemm"
)

func ExamplePacked_Mul() {
	// A is 2×3, B is 3×2.
	a := gemm.Pack(2, 3, []float32{
		1, 2, 3,
		4, 5, 6,
	}, 3)
	b := []float32{
		1, 0,
		0, 1,
		1, -1,
	}
	c := make([]float32, 4)
	ws := gemm.NewWorkspace()
	a.Mul(c, 2, b, 2, 2, nil, false, ws)
	fmt.Println(c)

	// The same with B's rows scaled by 2, shifted by -1 and clamped at 0 while packing.
	op := &gemm.RowOp{Scale: []float32{2, 2, 2}, Shift: []float32{-1, -1, -1}, ReLU: true}
	a.Mul(c, 2, b, 2, 2, op, false, ws)
	fmt.Println(c)
	// Output:
	// [4 -1 10 -1]
	// [4 2 10 5]
}
