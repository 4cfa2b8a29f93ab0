package vec_test

import (
	"fmt"

	"github.com/odin-ood/odin/internal/vec"
)

// A stride-2 row of a lowered convolution, its adjoint, and a row split into even and odd
// columns.
func ExampleGather2() {
	src := []float32{0, 1, 2, 3, 4, 5, 6}
	dst := make([]float32, 4)
	vec.Gather2(dst, src) // src may end at its last gathered element
	fmt.Println(dst)

	grad := make([]float32, 7)
	vec.AddScatter2(grad, []float32{1, 1, 1, 1})
	vec.AddScatter2(grad, []float32{1, 1, 1, 1})
	fmt.Println(grad)

	even, odd := make([]float32, 4), make([]float32, 3)
	vec.Deinterleave(even, odd, src)
	fmt.Println(even, odd)
	// Output:
	// [0 2 4 6]
	// [2 0 2 0 2 0 2]
	// [0 2 4 6] [1 3 5]
}
