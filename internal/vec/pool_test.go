package vec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPool2 checks Pool2 and Unpool2, assembly and Go, against the definitions bit for bit.
func TestPool2(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, sz := range [][2]int{{32, 32}, {16, 16}, {8, 8}, {6, 10}, {48, 2}} {
		w, h := sz[0], sz[1]
		t.Run(fmt.Sprintf("%dx%d", h, w), func(t *testing.T) {
			src := make([]float32, w*h)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			got := make([]float32, w*h/4)
			Pool2(got, src, w, h)
			for y := range h / 2 {
				for x := range w / 2 {
					a, b, c, d := src[2*y*w+2*x], src[2*y*w+2*x+1], src[(2*y+1)*w+2*x], src[(2*y+1)*w+2*x+1]
					if want := ((a + c) + (b + d)) * 0.25; got[y*w/2+x] != want {
						t.Fatalf("pool (%d, %d) = %v, want %v", y, x, got[y*w/2+x], want)
					}
				}
			}
			for _, acc := range []bool{false, true} {
				dst := append([]float32(nil), src...)
				Unpool2(dst, got, w, h, acc)
				for i := range dst {
					v := got[(i/w/2)*(w/2)+(i%w)/2] * 0.25
					want := v
					if acc {
						want = src[i] + v
					}
					if dst[i] != want {
						t.Fatalf("unpool acc=%v element %d = %v, want %v", acc, i, dst[i], want)
					}
				}
			}
		})
	}
}
