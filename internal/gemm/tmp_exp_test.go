package gemm

import (
	"fmt"
	"testing"
)

func BenchmarkExp(b *testing.B) {
	for _, s := range []struct{ m, k, n int }{{12, 432, 256}, {12, 432, 1024}, {48, 350, 256}, {48, 216, 1024}, {160, 1440, 1024}, {640, 5760, 64}, {320, 2880, 256}} {
		for _, kc := range []int{192, 256, 384, 512} {
			for _, mc := range []int{96, 192} {
				if mc == 192 && s.m <= 96 {
					continue
				}
				b.Run(fmt.Sprintf("M%d_K%d_N%d_KC%d_MC%d", s.m, s.k, s.n, kc, mc), func(b *testing.B) {
					kcMax, mcMax = kc, mc
					benchMul(b, s.m, s.k, s.n, nil)
					kcMax, mcMax = 256, 96
				})
			}
		}
	}
}
